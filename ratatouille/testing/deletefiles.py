"""Commit row-level delete files by hand, on any storage (no writer installed here makes them on S3).

A Parquet file (position deletes: ``file_path``, ``pos``; equality deletes: the equality columns), a delete
manifest listing it, and a snapshot (operation ``delete``) with the table's other manifests, through
pyiceberg's snapshot producer.
"""

from __future__ import annotations

import uuid
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.table import Table

PATH_ID, POS_ID = 2147483546, 2147483545


def commit_position_deletes(
    table: Table, positions: dict[str, list[int]], partition: Any = None, file_format: Any = None
) -> None:
    """Delete rows by position: ``{data file path: [0-based row positions]}``, in one delete file.

    ``file_format`` labels the file otherwise in the manifest (a Puffin deletion vector, for a refusal).
    """
    paths = [p for p, rows in positions.items() for _ in rows]
    pos = [r for rows in positions.values() for r in rows]
    schema = pa.schema(
        [
            pa.field(
                "file_path", pa.string(), nullable=False, metadata={b"PARQUET:field_id": b"%d" % PATH_ID}
            ),
            pa.field("pos", pa.int64(), nullable=False, metadata={b"PARQUET:field_id": b"%d" % POS_ID}),
        ]
    )
    _commit(
        table, pa.table({"file_path": paths, "pos": pos}, schema=schema), None, partition, None, file_format
    )


def commit_equality_deletes(
    table: Table, rows: dict[str, list[Any]], partition: Any = None, spec_id: int | None = None
) -> None:
    """Delete every row whose columns ``rows`` names equal one of its rows (one delete file)."""
    schema = table.schema()
    fields = [schema.find_field(name) for name in rows]
    arrow = schema.as_arrow()
    columns = pa.schema(
        [
            pa.field(f.name, arrow.field(f.name).type, nullable=True,
                     metadata={b"PARQUET:field_id": b"%d" % f.field_id})
            for f in fields
        ]
    )  # fmt: skip
    _commit(table, pa.table(rows, schema=columns), [f.field_id for f in fields], partition, spec_id)


def _commit(
    table: Table,
    data: pa.Table,
    equality_ids: list[int] | None,
    partition: Any,
    spec_id: int | None = None,
    file_format: Any = None,
) -> None:
    from pyiceberg.io.pyarrow import (
        compute_statistics_plan,
        data_file_statistics_from_parquet_metadata,
        parquet_path_to_id_mapping,
    )
    from pyiceberg.manifest import (
        DataFile,
        DataFileContent,
        FileFormat,
        ManifestContent,
        ManifestEntry,
        ManifestEntryStatus,
        ManifestWriterV2,
    )
    from pyiceberg.schema import Schema
    from pyiceberg.table.snapshots import Operation
    from pyiceberg.table.update.snapshot import _FastAppendFiles
    from pyiceberg.typedef import Record
    from pyiceberg.types import LongType, NestedField, StringType

    kind = "eq" if equality_ids else "pos"
    path = f"{table.location()}/data/{uuid.uuid4()}-{kind}-deletes.parquet"
    with table.io.new_output(path).create() as out:
        pq.write_table(data, out)
    with table.io.new_input(path).open() as stream:
        metadata = pq.read_metadata(stream)
    if equality_ids:
        stats_schema = Schema(*[table.schema().find_field(i) for i in equality_ids])
    else:
        stats_schema = Schema(
            NestedField(PATH_ID, "file_path", StringType(), required=True),
            NestedField(POS_ID, "pos", LongType(), required=True),
        )
    stats = data_file_statistics_from_parquet_metadata(
        parquet_metadata=metadata,
        stats_columns=compute_statistics_plan(stats_schema, table.properties),
        parquet_column_mapping=parquet_path_to_id_mapping(stats_schema),
    )
    spec = table.metadata.specs()[spec_id if spec_id is not None else table.metadata.default_spec_id]
    delete_file = DataFile.from_args(
        content=DataFileContent.EQUALITY_DELETES if equality_ids else DataFileContent.POSITION_DELETES,
        file_path=path,
        file_format=file_format or FileFormat.PARQUET,
        partition=partition if partition is not None else Record(),
        file_size_in_bytes=len(table.io.new_input(path)),
        sort_order_id=None,
        spec_id=spec.spec_id,
        equality_ids=equality_ids,
        key_metadata=None,
        **stats.to_serialized_dict(),
    )

    class _DeleteManifestWriter(ManifestWriterV2):
        def content(self) -> ManifestContent:
            return ManifestContent.DELETES

        @property
        def _meta(self) -> dict[str, str]:
            return {**super()._meta, "content": "deletes"}

    class _AddDeletes(_FastAppendFiles):
        def _manifests(self) -> list[Any]:
            writer = _DeleteManifestWriter(
                spec=spec,
                schema=self._transaction.table_metadata.schema(),
                output_file=self.new_manifest_output(),
                snapshot_id=self._snapshot_id,
                avro_compression=self._compression,
            )
            with writer:
                writer.add(
                    ManifestEntry.from_args(
                        status=ManifestEntryStatus.ADDED,
                        snapshot_id=self._snapshot_id,
                        sequence_number=None,
                        file_sequence_number=None,
                        data_file=delete_file,
                    )
                )
            return [writer.to_manifest_file(), *self._existing_manifests()]

    with table.transaction() as tx:
        producer = _AddDeletes(operation=Operation.DELETE, transaction=tx, io=table.io)
        producer.append_data_file(delete_file)
        producer.commit()
