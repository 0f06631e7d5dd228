"""``envsnap sbom``: the native half of a Go program's bill of materials.

Go's SBOM tools list the Go modules a binary holds. This package describes what a cgo build also
links and compiles with, as ``envsnap.lock`` records it: the C libraries (their files, versions,
hashes, the package that provided them, how they are linked), the cgo packages that use each,
the Go toolchain, the C compiler and linker, the operating system, and on macOS the SDK, the
Command Line Tools and Xcode; for a built binary, also its Go modules and what it really loads.

:mod:`~envsnap.sbom.build` and :mod:`~envsnap.sbom.binary` make a format-free
:class:`~envsnap.sbom.model.Bill`; :mod:`~envsnap.sbom.cyclonedx` and :mod:`~envsnap.sbom.spdx`
render it with the formats' own libraries (the ``sbom`` extra), which are imported only here,
by ``envsnap sbom``, never by any other command.
"""

from __future__ import annotations

import importlib.util
import json

from envsnap.errors import EnvsnapError
from envsnap.sbom.model import Bill

FORMATS = ("cyclonedx-json", "spdx-json")
INSTALL_HINT = "install the sbom extra: pip install 'envsnap-cgo[sbom]'"
# The importable module and the distribution of each library a format needs.
LIBRARIES = {
    "cyclonedx-json": (
        ("cyclonedx", "cyclonedx-python-lib"),
        ("jsonschema", "jsonschema"),
        ("packageurl", "packageurl-python"),
    ),
    "spdx-json": (("spdx_tools", "spdx-tools"), ("packageurl", "packageurl-python")),
}
ENVSNAP_TOOL = "envsnap"


class MissingExtra(EnvsnapError):
    """The libraries that write the documents are not installed."""


def require(fmt: str) -> None:
    """Refuse, in one line, a format whose libraries are not installed."""
    missing = [dist for module, dist in LIBRARIES[fmt] if not _importable(module)]
    if missing:
        raise MissingExtra(f"envsnap sbom --format {fmt} needs {', '.join(missing)}", INSTALL_HINT)


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a module set to None in sys.modules, a broken package
        return False


def render(bill: Bill, fmt: str) -> str:
    """The document of *bill* in *fmt*, validated by the format's own library."""
    if fmt == "spdx-json":
        from envsnap.sbom import spdx

        return spdx.render(bill)
    from envsnap.sbom import cyclonedx

    return cyclonedx.render(bill)


def is_own_document(data: bytes) -> bool:
    """*data* is a document envsnap sbom wrote (it names envsnap as its tool): one that
    ``-o`` may replace without ``--force``."""
    try:
        document = json.loads(data)
    except ValueError:
        return False
    tools = _field(_field(document, "metadata"), "tools")
    components = _field(tools, "components") or []
    creators = _field(_field(document, "creationInfo"), "creators") or []
    return any(_field(c, "name") == ENVSNAP_TOOL for c in _items(components)) or any(
        str(c).startswith(f"Tool: {ENVSNAP_TOOL}-") for c in _items(creators)
    )


def _field(value: object, name: str) -> object:
    return value.get(name) if isinstance(value, dict) else None


def _items(value: object) -> list[object]:
    return value if isinstance(value, list) else []
