from envsnap.cli import main

raise SystemExit(main())
