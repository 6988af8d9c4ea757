"""The command layer: the `campaign` command, one module per command.

``app`` holds the Typer application and its thin command functions; each other
module here runs one command on top of the content side (``campaign``) and the
runtime (``scheduler``). Only this package prints to the terminal; the domain
modules return values, raise errors and log.
"""
