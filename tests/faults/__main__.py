from tests.faults.run import main

raise SystemExit(main())
