# Revisions ac00b586ab95 and d163df1bab88 ask oslo.db's enginefacade for an engine.
import os

from oslo_db.sqlalchemy import enginefacade

enginefacade.configure(connection=os.environ["CORPUS_DB_URL"])
