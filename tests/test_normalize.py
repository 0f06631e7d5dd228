"""envsnap.normalize: the paths that differ between machines become marks, in every string of a
snapshot and only where a path starts; TOML's missing null is pruned.

(Credentials and NUL bytes refused by check_secrets: tests/hostile/test_secrets.py and
tests/hostile/test_secret_shapes.py.)
"""

from __future__ import annotations

import pytest

from envsnap.entry import JsonObject
from envsnap.errors import EnvsnapError, NulRefused, SecretRefused
from envsnap.normalize import PathNormalizer, check_secrets, prune

HOME = "/home/ada"
CACHE = "/home/ada/go/pkg/mod"
MODULE = "/home/ada/src/app"


def _normalizer() -> PathNormalizer:
    return PathNormalizer(MODULE, HOME, CACHE)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (HOME, "~"),
        (f"{HOME}/.local/include", "~/.local/include"),
        (f"{CACHE}/example.com/dep@v1/include", "${GOMODCACHE}/example.com/dep@v1/include"),
        (f"{MODULE}/include", "${MODULE}/include"),
        (MODULE, "${MODULE}"),
        # where a path starts: after a space, '=', ':', ',', ';', a quote or a one-letter flag
        (f"-I{MODULE}/include -L{CACHE}/x", "-I${MODULE}/include -L${GOMODCACHE}/x"),
        (f"--sysroot={HOME}/sdk", "--sysroot=~/sdk"),
        (f"/usr/lib:{HOME}/lib,{HOME}/a;{HOME}/b", "/usr/lib:~/lib,~/a;~/b"),
        (f"'{HOME}/q' \"{HOME}/d\"", "'~/q' \"~/d\""),
        (f"{HOME} {MODULE}", "~ ${MODULE}"),
        # never inside another path, nor as the start of a longer name
        (f"/srv{HOME}/lib", f"/srv{HOME}/lib"),
        ("/home/adam/lib", "/home/adam/lib"),
        (f"{MODULE}-old/include", "~/src/app-old/include"),
        (f"x{HOME}", f"x{HOME}"),
        (f"-o{HOME}/bin/app", "-o~/bin/app"),  # a lower-case flag too
    ],
)
def test_each_path_becomes_its_mark_where_a_path_starts(value: str, expected: str) -> None:
    assert _normalizer().text(value) == expected


def test_a_path_is_also_known_by_its_real_path() -> None:
    real = {"/tmp/app": "/private/tmp/app", "/Users/ada": "/Users/ada"}
    normalizer = PathNormalizer(
        "/tmp/app/", "/Users/ada/", None, lambda path: real[path.rstrip("/")]
    )
    assert normalizer.text("-I/tmp/app/a -I/private/tmp/app/b") == "-I${MODULE}/a -I${MODULE}/b"
    assert normalizer.text("/Users/ada/x") == "~/x"
    # a real path is matched as it is spelled too; a home that is the root itself names nothing
    real = {"/Users/ada": "/Volumes/HOMEX", "/srv/app": "/"}
    normalizer = PathNormalizer("/srv/app", "/Users/ada", None, lambda path: real[path])
    assert normalizer.text("/Volumes/HOMEX/y /Volumes/HOME/x") == "~/y /Volumes/HOME/x"
    assert normalizer.text("/usr/lib /srv/app/a") == "/usr/lib ${MODULE}/a"


@pytest.mark.parametrize("home", [None, "", "/", "//", "relative/home", "~"])
def test_a_home_that_is_no_absolute_folder_is_left_alone(home: str | None) -> None:
    normalizer = PathNormalizer(MODULE, home)
    assert normalizer.text(f"{MODULE}/a /b/c relative/home/x") == "${MODULE}/a /b/c relative/home/x"


def test_every_string_of_a_snapshot_is_rewritten_but_no_key() -> None:
    data: JsonObject = {
        HOME: [f"{HOME}/a", {"k": f"{MODULE}/b"}, 3, None, True],
        "n": 1.5,
    }
    assert _normalizer().apply(data) == {
        HOME: ["~/a", {"k": "${MODULE}/b"}, 3, None, True],
        "n": 1.5,
    }


def test_prune_drops_every_null_toml_cannot_hold() -> None:
    data: JsonObject = {
        "a": None,
        "b": [1, None, {"c": None, "d": [None]}],
        "e": {"f": None},
        "g": 0,
    }
    assert prune(data) == {"b": [1, {"d": []}], "e": {}, "g": 0}
    assert prune([None, "x"]) == ["x"]
    assert prune("x") == "x"


@pytest.mark.parametrize("home", ["/Users/ALEX", "/X", "/srv/a b ", "/home/ada/"])
def test_a_home_is_matched_as_it_is_spelled(home: str) -> None:
    folder = home.rstrip("/")
    normalizer = PathNormalizer(None, home)
    assert normalizer.text(f"{folder}/a {folder}") == "~/a ~"
    for other in {folder[:-1], folder.rstrip(), f"{folder[:-1]}/x"} - {folder}:
        assert normalizer.text(other) == other  # a shorter name is another folder


TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


def _hint(error: type[EnvsnapError], name: str, value: str, where: str) -> str:
    with pytest.raises(error) as caught:
        check_secrets({name: value}, where)
    assert name in str(caught.value) and where in str(caught.value)
    return caught.value.hint


def test_a_nul_byte_s_hint_offers_go_env_u_only_for_go_s_settings() -> None:
    go_hint = _hint(NulRefused, "CGO_CFLAGS", "-O2\0-g", "go env")
    assert "`go env -u CGO_CFLAGS`" in go_hint and "set CGO_CFLAGS again" in go_hint
    with pytest.raises(NulRefused, match="no environment variable, shell or Nix string can carry"):
        check_secrets({"CGO_CFLAGS": "-O2\0-g"}, "go env")  # why it is refused
    env_hint = _hint(NulRefused, "CPATH", "/usr/include\0", "environment")
    assert env_hint.startswith("set CPATH again") and "go env" not in env_hint


def test_a_credential_s_hint_is_what_the_user_can_really_do() -> None:
    go_hint = _hint(SecretRefused, "GOFLAGS", f"-ldflags=-X=main.t={TOKEN}", "go env")
    assert "`go env -u GOFLAGS`" in go_hint and "envsnap always locks GOFLAGS" in go_hint
    # a variable envsnap always locks cannot be untracked; one envsnap.toml adds can
    always = _hint(SecretRefused, "CPATH", f"/x/{TOKEN}", "environment")
    assert "envsnap always locks CPATH" in always and "[track]" not in always
    added = _hint(SecretRefused, "MY_BUILD_KEY", TOKEN, "environment")
    assert '"MY_BUILD_KEY"' in added and "[track]" in added and "always locks" not in added
