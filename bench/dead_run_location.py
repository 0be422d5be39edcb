"""A code location with only the dead-run sensor, for bench/bench_hardening.py's dagster-daemon."""

import dagster as dg

from sensors.dead_run_sensor import dead_run_sensor

defs = dg.Definitions(sensors=[dead_run_sensor])
