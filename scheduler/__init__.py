"""The runtime side: store, channels, exactly-once publishing, the daemon.

Imports ``campaign``; ``campaign`` never imports this package.
"""
