"""Push notifications (apprise, `[notify]`): what to push, when, and in which words.

`destination.py` is the destination; `settings.py` reads its table; `policy.py` decides
which events push (quiet hours, cool-down, escalation); `messages.py` words them;
`digest.py` schedules the morning digest; `offline.py` decides, and `offline_watcher.py`
(in `serve`) tells, when a room's monitor went offline.
"""
