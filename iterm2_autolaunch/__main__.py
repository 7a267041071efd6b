from iterm2_autolaunch.cli import main

raise SystemExit(main())
