"""A run process for the killed-run fault tests:

    python -m tests.faults.gpu_run_worker ASSET PARTITION ROLE [RUN_CONFIG_JSON [GO_FILE]]

materializes one asset of the code location for one partition on $DAGSTER_HOME's instance, in-process
as `dg.materialize` does (the run is this OS process), with the resources the Definitions build from
the environment: the test's database and studio home, the preview backends, STUDIO_PREVIEW_DELAY_S.
ROLE is put on the run as the tag `fault/role`, so the test tells its runs apart. With GO_FILE the run
starts only once that file exists: the imports (seconds on a loaded machine) are done by then.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import dagster as dg

from anime_assets.definitions import defs

ROLE_TAG = "fault/role"


def main(asset_name: str, partition: str, role: str, run_config: str = "{}", go_file: str = "") -> int:
    [asset] = [a for a in defs.assets if a.key == dg.AssetKey(asset_name)]
    deadline = time.monotonic() + 120
    while go_file and not Path(go_file).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    result = dg.materialize([asset], partition_key=partition, instance=dg.DagsterInstance.get(),
                            resources=defs.resources, run_config=json.loads(run_config), tags={ROLE_TAG: role},
                            raise_on_error=False)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
