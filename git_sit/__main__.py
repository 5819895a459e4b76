"""Allow ``python -m git_sit`` (used by the hook shim and subprocess tests)."""

from git_sit.cli import main

if __name__ == "__main__":
    main()
