# Revision files call mealie's get_logger(), which builds the app settings; PRODUCTION is a
# required setting read from the environment.
import os

os.environ.setdefault("PRODUCTION", "false")
