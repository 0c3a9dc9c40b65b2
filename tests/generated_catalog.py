"""Generate a catalogue root of many plausible definitions (the site's tests and benchmark).

Deterministic: the same ``count`` and ``seed`` write the same files. Ids are
``gen.<domain>.<word>-<n>``; every domain, task, licence and size bucket of the site's filters
is used. The sha256 values are of made-up bytes: these definitions are never prepared.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

DOMAINS = ["image", "text", "tabular", "audio", "ir", "embeddings"]
TASKS = {
    "image": ["image-classification", "object-detection", "segmentation"],
    "text": ["text-classification", "question-answering", "token-classification", "translation"],
    "tabular": ["tabular-classification", "tabular-regression"],
    "audio": ["audio-classification", "speech-recognition"],
    "ir": ["ranking", "retrieval"],
    "embeddings": ["word-embeddings"],
}
LICENSES = ["MIT", "CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "Apache-2.0", "LicenseRef-research-only"]
WORDS = ["alpine", "birch", "cobalt", "delta", "ember", "fjord", "garnet", "harbor", "indigo",
         "juniper", "kelp", "lagoon", "meadow", "nickel", "onyx", "prairie", "quartz", "rowan"]
# Download sizes spanning the site's size filter: under 1 MiB ... 10 GiB and more.
SIZES = [200_000, 5_000_000, 300_000_000, 4_000_000_000, 20_000_000_000]


def generate(root: Path, count: int = 10_000, seed: int = 18) -> list[dict[str, object]]:
    """Write ``count`` definitions under ``root``; return their metadata (id, name, domain,
    tasks, license, size: None when a resource has no size)."""
    rng = random.Random(seed)
    written = []
    for n in range(count):
        domain = DOMAINS[n % len(DOMAINS)]
        word = WORDS[rng.randrange(len(WORDS))]
        dataset_id = f"gen.{domain}.{word}-{n:05d}"
        tasks = rng.sample(TASKS[domain], k=min(len(TASKS[domain]), 1 + n % 2))
        license_ = LICENSES[rng.randrange(len(LICENSES))]
        size = None if n % 97 == 0 else SIZES[rng.randrange(len(SIZES))]
        name = f"{word.capitalize()} {domain} set {n}"
        sha = hashlib.sha256(dataset_id.encode()).hexdigest()
        size_line = f"\n    size: {size}" if size is not None else ""
        description = f"A generated {domain} dataset about {word}s, number {n}; token{n:05d}x."
        text = (
            f"name: {json.dumps(name)}\n"
            f"description: {json.dumps(description)}\n"
            f"homepage: https://example.org/{domain}/{n}/\n"
            f"license: {license_}\n"
            f"citation: '@misc{{gen{n}, title = {{{name}}}, year = {{2024}}}}'\n"
            f"tags: [{domain}, generated]\n"
            f"tasks: [{', '.join(tasks)}]\n"
            f"splits: {{train: {1000 + n}, test: {100 + n % 50}}}\n"
            "resources:\n"
            "  data:\n"
            f"    url: https://example.org/{domain}/{n}/data.bin\n"
            f"    sha256: {sha}{size_line}\n"
            "type: file\n"
            "data: {path: data}\n"
        )
        path = root / "gen" / domain / f"{word}-{n:05d}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append({"id": dataset_id, "name": name, "domain": domain, "tasks": tasks,
                        "license": license_, "size": size})
    return written
