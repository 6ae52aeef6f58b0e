from tabgen.cli import main

main()
