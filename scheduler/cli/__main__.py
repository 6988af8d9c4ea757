"""``python -m scheduler.cli`` runs the command line."""

from scheduler.cli.app import main

if __name__ == "__main__":  # not again in a spawned worker process
    main()
