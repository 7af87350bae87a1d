"""Entry script PyInstaller freezes: the `rotation` command line."""
from addin.cli.main import main

if __name__ == "__main__":
    main()
