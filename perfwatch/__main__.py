from perfwatch.cli import main

raise SystemExit(main())
