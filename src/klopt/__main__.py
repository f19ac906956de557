from klopt.cli.app import main

main()
