"""An RQ worker as a host of its own would run one (test_workers.py): `python -m rq_worker
REDIS_URL QUEUE HOSTNAME`, started under `unshare --uts` so that it may take its own host
name; HOSTNAME "-" keeps this machine's. Its heartbeat comes every 5 s (RQ's default is 30)."""

import socket
import sys

from redis import Redis
from rq import Queue, Worker

url, queue, hostname = sys.argv[1:4]
if hostname != "-":
	socket.sethostname(hostname)
connection = Redis.from_url(url)
Worker([Queue(queue, connection=connection)], connection=connection, name=f"{queue}-worker",
	job_monitoring_interval=5).work(logging_level="WARNING")
