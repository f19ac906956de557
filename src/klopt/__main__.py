from klopt.cli import main

main()
