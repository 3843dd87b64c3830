"""`python -m pipeline` is the same CLI as `podcast`."""

from pipeline.cli import main

if __name__ == "__main__":
    main()
