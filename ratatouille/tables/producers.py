"""Snapshot producers for rewrites that change no rows: Iceberg ``replace`` snapshots.

pyiceberg 0.11 has no ``replace`` producer (``UpdateSnapshot`` offers append, overwrite and delete, and
``update_snapshot_summaries`` refuses ``replace``). A rewrite must still say ``replace``: incremental
readers skip such snapshots, since the data did not change. So the summary is built as for an overwrite
(the totals are identical) and its operation set to ``replace``.

Imported lazily: this module imports pyiceberg.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pyiceberg.manifest import (
    ManifestContent,
    ManifestEntry,
    ManifestEntryStatus,
    ManifestFile,
    write_manifest,
)
from pyiceberg.table.snapshots import Operation, Summary
from pyiceberg.table.update.snapshot import _OverwriteFiles, _SnapshotProducer


def _as_replace(summary: Summary) -> Summary:
    return Summary(Operation.REPLACE, **summary.additional_properties)


class ReplaceFiles(_OverwriteFiles):
    """Remove data files and add others holding the same rows, in one ``replace`` snapshot."""

    def _summary(self, snapshot_properties: Any = None) -> Summary:
        return _as_replace(super()._summary(snapshot_properties or {}))


class RewriteManifests(_SnapshotProducer["RewriteManifests"]):
    """Rewrite the data manifests of a branch head into one manifest per partition spec (``replace``).

    Every live entry is kept as ``EXISTING`` with its original snapshot id and sequence numbers, so
    time travel and row lineage are unchanged; manifests of delete files are kept as they are.
    """

    def _existing_manifests(self) -> list[ManifestFile]:
        snapshot = self._transaction.table_metadata.snapshot_by_name(name=self._target_branch or "main")
        if snapshot is None:
            return []
        kept: list[ManifestFile] = []
        by_spec: dict[int, list[ManifestEntry]] = defaultdict(list)
        for manifest in snapshot.manifests(io=self._io):
            if manifest.content != ManifestContent.DATA:
                kept.append(manifest)
                continue
            by_spec[manifest.partition_spec_id].extend(
                manifest.fetch_manifest_entry(self._io, discard_deleted=True)
            )
        metadata = self._transaction.table_metadata
        for spec_id, entries in sorted(by_spec.items()):
            if not entries:
                continue
            with write_manifest(
                format_version=metadata.format_version,
                spec=metadata.specs()[spec_id],
                schema=metadata.schema(),
                output_file=self.new_manifest_output(),
                snapshot_id=self._snapshot_id,
                avro_compression=self._compression,
            ) as writer:
                for entry in entries:
                    writer.add_entry(
                        ManifestEntry.from_args(
                            status=ManifestEntryStatus.EXISTING,
                            snapshot_id=entry.snapshot_id,
                            sequence_number=entry.sequence_number,
                            file_sequence_number=entry.file_sequence_number,
                            data_file=entry.data_file,
                        )
                    )
            kept.append(writer.to_manifest_file())
        return kept

    def _deleted_entries(self) -> list[ManifestEntry]:
        return []

    def _summary(self, snapshot_properties: Any = None) -> Summary:
        return _as_replace(super()._summary(snapshot_properties or {}))
