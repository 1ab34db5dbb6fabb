from memlens.cli import main

raise SystemExit(main())
