"""Blocks forever in select() on nothing, and in signal.pause() if that
returns: a C-level wait with no CPU use."""
import select
import signal
select.select([], [], [])
signal.pause()
