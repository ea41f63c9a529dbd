"""Runs a command and writes its rusage, where /usr/bin/time is missing: `launcher.py USAGE_FILE CMD...`.

Started with `python -S`, so this process stays small: a child forked from it starts from its RSS,
not from the harness's. Writes "maxrss_kib user_s system_s" and exits with the command's status.
"""

import os
import signal
import sys


def main() -> None:
    usage_file, command = sys.argv[1], sys.argv[2:]
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    # Like /usr/bin/time: an interrupt is for the command, which decides how to stop; we wait for it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _, status, usage = os.wait4(pid, 0)
    with open(usage_file, "w") as out:
        out.write(f"{usage.ru_maxrss} {usage.ru_utime} {usage.ru_stime}\n")
    code = os.waitstatus_to_exitcode(status)
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
