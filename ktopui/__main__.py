from ktopui.cli import main

raise SystemExit(main())
