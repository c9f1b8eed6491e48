from ivr.entry import main

raise SystemExit(main())
