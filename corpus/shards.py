"""Stream a config's rows to Hugging Face parquet shards, and read them back as one table.

A build of thousands of stories cannot hold its rows until the end, so each
config is written as it goes: rows are grouped into row groups of about
:data:`ROWS_PER_GROUP` and a shard is closed once it holds :data:`SHARD_BYTES`
of Arrow data (a fraction of that on disk with zstd). The shards are
named as the Hub names them, ``<config>/test-00000-of-00003.parquet``, and the
card lists the glob ``<config>/test-*.parquet``, so ``load_dataset`` reads them
as one split.

Every boundary depends on the rows alone (counts and Arrow sizes, never on
timing), so a rebuild writes the same shards byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from .errors import CorpusError
from .schema import SPLIT, arrow_schema

SHARD_BYTES = 256 * 2**20  # Arrow bytes per shard: ~50-100 MB of zstd parquet, well under the Hub's 5 GB file limit
ROWS_PER_GROUP = 1000  # rows per parquet row group: what a reader (the Hub's viewer, pyarrow) loads at once


def shard_name(index: int, total: int) -> str:
    return f"{SPLIT}-{index:05d}-of-{total:05d}.parquet"


def data_pattern(config: str) -> str:
    """The glob of a config's shards, relative to the dataset folder (what the card's ``configs`` list)."""
    return f"{config}/{SPLIT}-*.parquet"


class ShardWriter:
    """Rows of one config, appended story by story, streamed into numbered shards.

    Each :meth:`write` (one story's rows) becomes an Arrow table at once; the
    tables are written out as a row group once they hold :data:`ROWS_PER_GROUP`
    rows or would fill the shard, and a shard is closed once it holds
    ``shard_bytes``. Memory holds at most one row group; :meth:`close` gives the
    shards their final ``-of-N`` names (the count is known only then).
    """

    def __init__(self, folder: Path, config: str, langs: Sequence[str], *, shard_bytes: int = SHARD_BYTES,
                 rows_per_group: int = ROWS_PER_GROUP):
        self.folder = Path(folder) / config
        self.schema = arrow_schema(config, langs)
        self.shard_bytes, self.rows_per_group = max(1, int(shard_bytes)), max(1, int(rows_per_group))
        self.rows = 0
        self._pending: list = []  # Arrow tables not yet written
        self._pending_rows = self._pending_bytes = 0
        self._writer = None
        self._bytes = 0  # Arrow bytes in the open shard
        self._shards: list[Path] = []

    def write(self, rows: Iterable[dict]) -> None:
        import pyarrow as pa

        table = pa.Table.from_pylist(list(rows), schema=self.schema)
        if not table.num_rows:
            return
        self._pending.append(table)
        self._pending_rows += table.num_rows
        self._pending_bytes += table.nbytes
        if self._pending_rows >= self.rows_per_group or self._bytes + self._pending_bytes >= self.shard_bytes:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.concat_tables(self._pending) if self._pending else self.schema.empty_table()
        if self._writer is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f".{SPLIT}-{len(self._shards):05d}.parquet"
            self._shards.append(path)
            self._writer = pq.ParquetWriter(path, self.schema, compression="zstd", write_statistics=True)
        self._writer.write_table(table, row_group_size=self.rows_per_group)
        self.rows += table.num_rows
        self._bytes += self._pending_bytes
        self._pending, self._pending_rows, self._pending_bytes = [], 0, 0
        if self._bytes >= self.shard_bytes:
            self._writer.close()
            self._writer, self._bytes = None, 0

    def close(self) -> list[Path]:
        """Write what is pending, close the last shard, and name every shard ``test-i-of-N``.

        A config with no rows still gets one (empty) shard, so it loads.
        """
        if self._pending or not self._shards:
            self._flush()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        final = []
        for i, path in enumerate(self._shards):
            target = path.with_name(shard_name(i, len(self._shards)))
            path.replace(target)
            final.append(target)
        return final


def config_files(root: Path, config: str) -> list[Path]:
    """A config's parquet files in a dataset folder, in shard order (one ``test.parquet`` in folders
    written before the build was sharded)."""
    import re

    folder = Path(root) / config
    files = sorted(folder.glob(f"{SPLIT}-*-of-*.parquet"))
    for f in files:
        if not f.is_file():
            raise CorpusError(f, "is not a parquet file (a folder or a special file)")
    if files:  # test-i-of-N: every i of one N, once (a missing or stray shard would drop or repeat rows)
        names = [re.fullmatch(rf"{SPLIT}-(\d+)-of-(\d+)\.parquet", f.name) for f in files]
        totals = {int(m.group(2)) for m in names if m}
        found = sorted(int(m.group(1)) for m in names if m)
        if None in names or len(totals) != 1 or found != list(range(next(iter(totals)))):
            raise CorpusError(folder, f"shards {', '.join(f.name for f in files[:4])}{' ...' if len(files) > 4 else ''} "
                              "are not one numbered set (test-00000-of-0000N to test-0000(N-1)-of-0000N)")
    legacy = folder / f"{SPLIT}.parquet"
    return files or ([legacy] if legacy.is_file() else [])


def read_shards(root: Path, config: str):
    """A config's shards as one pyarrow table, or a one-line error naming the file that is wrong."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = config_files(root, config)
    if not files:
        raise CorpusError(Path(root) / config, f"no {data_pattern(config)} shards; {root} is not a diptych dataset "
                          f"folder (build one with `diptych build -o {root}`)")
    tables = []
    for path in files:
        try:
            tables.append(pq.read_table(path))
        except (OSError, pa.ArrowException) as e:
            raise CorpusError(path, f"not a readable parquet file ({e})") from None
    if len(tables) == 1:
        table = tables[0]
    else:
        try:
            table = pa.concat_tables(tables, promote_options="none")
        except pa.ArrowException as e:
            raise CorpusError(Path(root) / config, f"shards with different columns ({e})") from None
    if "id" in table.column_names and table.num_rows:  # every row id once: a shard copied twice repeats them
        import pyarrow.compute as pc

        if pc.count_distinct(table["id"]).as_py() != table.num_rows:
            counts = pc.value_counts(table["id"])
            dup = next(x["values"] for x in counts.to_pylist() if x["counts"] > 1)
            raise CorpusError(Path(root) / config, f"row id {dup!r} appears more than once (a shard copied twice?)")
    return table


__all__ = ["ROWS_PER_GROUP", "SHARD_BYTES", "ShardWriter", "config_files", "data_pattern", "read_shards",
           "shard_name"]
