"""Drift as an asset check on `approved_images`: it fails (WARN) while a character's recent approval
rate is significantly below its baseline, with the test's figures as metadata.

It is evaluated with every materialization of `approved_images`, which follows every decision on a
character's images (in the batch run for the quality gate's, by approved_images_sensor for a person's),
so the check moves whenever the drift test's inputs do. The replenishment sensor writes the decision
row in `autonomy_decisions`, the record of when drift was detected and cleared. The sensor does not
report the check itself: Dagster 1.13 stores a check evaluation made outside a run with run id '', so
a second one for the same partition breaks the unique index of asset_check_executions.
"""

from __future__ import annotations

import warnings

import dagster as dg

from anime_assets.partitions import character_partitions
from studio.autonomy.drift_status import TEST_NAME
from studio.domain.drift import DriftResult

ASSET = dg.AssetKey("approved_images")
CHECK_NAME = "approval_drift"

with warnings.catch_warnings():
    # Partitioned checks are a Dagster preview; drift is per character, so one verdict per partition.
    warnings.simplefilter("ignore", dg.PreviewWarning)
    APPROVAL_DRIFT = dg.AssetCheckSpec(
        CHECK_NAME, asset=ASSET, partitions_def=character_partitions,
        description=f"Recent approval rate not significantly below the baseline ({TEST_NAME})")


def _metadata(result: DriftResult) -> dict:
    figures = {k: v for k, v in result.as_dict().items() if k != "drifting" and v is not None}
    return {"test": TEST_NAME, **figures}


def drift_check_result(result: DriftResult) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(check_name=CHECK_NAME, asset_key=ASSET, passed=not result.drifting,
                               severity=dg.AssetCheckSeverity.WARN, description=result.reason,
                               metadata=_metadata(result))

