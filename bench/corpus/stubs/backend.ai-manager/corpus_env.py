# Revision f8a71c3bffa2 asks on standard input unless this is set: convert user ids directly.
import os

os.environ.setdefault("STRINGIFY_USERID_CHOICE", "a")
