"""``crisis mentions import FILE``: a listening tool's export (JSON Lines or CSV) posted to ``POST /mentions``.

The whole file is read and parsed before anything is sent, so a broken line is reported without
half an import. Batches then go in file order; a batch the API refuses is reported with the file's
line, and what was sent before it stays stored. Running the import again is safe: posts already
stored are skipped and counted as duplicates.
"""

import csv
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from api.mentions import MAX_BATCH

FIELDS = ("platform", "external_id", "author", "text", "url", "created_at", "language", "reach", "topic")
OPTIONAL = {"language", "reach", "topic"}
_REFUSED_ITEM = re.compile(r"^mentions\.(\d+)\.(.*)$", re.DOTALL)


class ImportProblem(Exception):
    pass


@dataclass
class ImportResult:
    read: int = 0
    stored: int = 0
    duplicates: int = 0
    topics: Counter = field(default_factory=Counter)


def read_file(path: Path) -> list[tuple[int, dict]]:
    """(line number, mention) for every record; CSV when the name ends in .csv, JSON Lines otherwise."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ImportProblem(f"{path}: cannot be read: {error}") from None
    return _read_csv(path, text) if path.suffix.lower() == ".csv" else _read_jsonl(path, text)


def _read_jsonl(path: Path, text: str) -> list[tuple[int, dict]]:
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as error:
            raise ImportProblem(f"{path}:{number}: not valid JSON ({error})") from None
        if not isinstance(record, dict):
            raise ImportProblem(f"{path}:{number}: must be a JSON object, one mention per line")
        records.append((number, record))
    return records


def _read_csv(path: Path, text: str) -> list[tuple[int, dict]]:
    reader = csv.DictReader(text.splitlines(keepends=True))
    missing = [name for name in FIELDS if name not in OPTIONAL and name not in (reader.fieldnames or [])]
    if missing:
        raise ImportProblem(f"{path}:1: the header lacks {', '.join(missing)} (columns: {', '.join(FIELDS)})")
    records = []
    for row in reader:
        record = {name: value for name, value in row.items() if name in FIELDS and value not in (None, "")}
        if "reach" in record and record["reach"].strip().isdigit():
            record["reach"] = int(record["reach"])
        records.append((reader.line_num, record))
    return records


def post_all(
    api_url: str, path: Path, records: list[tuple[int, dict]], batch: int = 1000, headers: dict[str, str] | None = None
) -> ImportResult:
    if not 1 <= batch <= MAX_BATCH:
        raise ImportProblem(f"--batch must be between 1 and {MAX_BATCH}")
    result = ImportResult(read=len(records))
    with httpx.Client(base_url=api_url, timeout=120, headers=headers) as client:
        for offset in range(0, len(records), batch):
            chunk = records[offset : offset + batch]
            try:
                response = client.post("/mentions", json=[record for _, record in chunk])
            except httpx.HTTPError as error:
                raise ImportProblem(f"cannot reach the API at {api_url}: {error}") from None
            if response.status_code == 422:
                raise ImportProblem(_where(path, chunk, response.json().get("detail", response.text), result))
            if response.status_code >= 400:
                raise ImportProblem(f"{response.status_code} from the API: {response.text} ({_sent(result)})")
            receipt = response.json()
            result.stored += receipt["stored"]
            result.duplicates += receipt["duplicates"]
            result.topics.update(receipt["topics"])
    return result


def _sent(result: ImportResult) -> str:
    return f"{result.stored + result.duplicates} mentions before it were sent and kept"


def _where(path: Path, chunk: list[tuple[int, dict]], detail: str, result: ImportResult) -> str:
    match = _REFUSED_ITEM.match(str(detail))
    if match and int(match.group(1)) < len(chunk):
        line = chunk[int(match.group(1))][0]
        return f"{path}:{line}: {match.group(2)} ({_sent(result)}; fix the line and import again)"
    return f"{path}: the API refused a batch: {detail} ({_sent(result)})"
