"""Rebuild /work/extra/extra.parquet from the public sources listed in SOURCES.md.

Why: the extra training styles (textbook microbiology, hard negatives) must be reproducible
from their provenance, and their texts are not committed unless the licence allows it.
Every source is read from a fetched git mirror (/work/.mirror/<owner>+<name>/repo) at a
pinned commit, except the `readfile` documents, which were fetched file-by-file through the
search index and are kept as JSON under /work/extra/raw/readfile/ (repo, commit, path, text);
rebuild those from GitHub at the recorded commit when the raw copy is absent.

Usage: python labels/extra/rebuild.py [--mirrors /work/.mirror] [--out /work/extra/extra.parquet]
       [--check labels/extra/manifest.jsonl]   (compare sha256 of rebuilt texts with the manifest)
"""
from __future__ import annotations

import argparse
import email
import email.policy
import hashlib
import html
import json
import re
import subprocess
import sys
from pathlib import Path

MIN_CHARS, MAX_CHARS, TARGET = 200, 8000, 1500
READ_CAP = 3000  # sections are cut to <= 3000 chars so every document can be read in full by an annotator

SOURCES = {
    "microbiology_text": ("nikolaussucher/microbiology-text", "155fa6375fc9d59616a44c3deb5cfdc8534c9075", "CC-BY-SA-3.0"),
    "spamassassin": ("stdlib-js/datasets-spam-assassin", "1b84d49ab4b28092ead009b3ceeb67ae525289d1", "CC0-1.0 (contents), PDDL (database)"),
    "based_cooking": ("LukeSmithxyz/based.cooking", "2d8642ec41ccc6162ec3123c15024dd3d22cc33b", "Unlicense (public domain)"),
    "open5e_srd": ("open5e/open5e", "575d96d590c4ac8dd0141ef7914105d97d94ef13", "OGL-1.0a (D&D SRD 5.1 open game content)"),
    "trshpuppy_notes": ("TrshPuppy/obsidian-notes", "13f0e0def88f33613a0c9295fb25eb867d4edc84", "no licence file (all rights reserved)"),
    "usofcovid": ("TheeChris/USofCOVID", "fd9e1e8e3dc97efd7f3e171dd69e3f256c7f5ab4", "no licence file (all rights reserved)"),
    "kangruixiang_wiki": ("kangruixiang/wiki", "bc4d8c66527c6760a6800342d4714c20439e934c", "MIT (repository licence)"),
    "tubegraph": ("sieve-data/tubegraph", "8e9d68f194b8eff5c1692c80033393f028622f28", "MIT (repository licence); notes summarise YouTube videos"),
}
WIKI_MICRO = re.compile(r"bacteri|virus|viral|gm |mycobac|spiroch|parasit|fung|infect|hiv|antimicrob|vaccin|pneumon|peds id|hepatitis b|"
                        r"sexually|mening|tubercul|helminth|rickett|chlamyd|herpes|candida|cystitis|uti|diarrhea|legionella|zoster|sinusitis", re.I)
TUBE_STYLES = [  # (regex over file path, style, cap) -- deterministic selection from the 21k notes
    (r"_drpreetisharma/.*(bacteri|fung|toxin|neisseria|cholera|culture|steriliz|streptococcus|tubercul|gram|parasit|microbio)", "lecture", 14),
    (r"hubermanlab/.*(microbiome|microbiota|urinary_tract|immune)", "health_podcast_notes", 14),
    (r"(microbial|virus|viral|bacteri|pathogen|plague|pandemic|covid|vaccin|infect|fung|ferment|yeast)", "mentions_mixed", 60),
    (r"_drpreetisharma/.*(appendicitis|ovarian|thyroid|tuberous|gastrointestinal|pathology)", "general_med", 6),
    (r"(nutrition|diet|cancer|heart|diabetes|anatomy|genetic|ecolog|sleep|muscle|hormone)", "general_med_bio", 30),
    (r"(cybersecurity|hack|malware|ransomware|security)", "security", 12),
    (r"aragusea/.*(bread|dough|recipe|pizza)", "cooking", 12),
]

MICRO_POS = ["microbiology", "main_themes", "prokaryotic_microorganisms", "eukaryotic_microorganisms", "viruses",
             "microbial_nutrition_ecology_growth", "microbial_metabolism", "microbial_genetics", "microbial_control",
             "antimicrobial_drugs", "methods_and_tools", "infection_disease", "host_defenses", "adaptive_immunity",
             "genetic_engineering", "bacteria"]
MICRO_GEN = ["chemistry", "organic_chemistry", "systematics"]
MICRO_CAP = 18  # sections per chapter (evenly spaced) to keep reading and source balance manageable
COOK_FERMENT = ["bread", "challah-bread", "cheese", "cream-cheese", "greek-yogurt", "kombucha", "kvass", "naan-bread",
                "no-knead-bread", "no-knead-pizza-dough", "pizza-dough", "sauerkraut", "sourdough-bread-with-seeds-and-grains",
                "sourdough-loaf", "sourdough-potato-bread", "sourdough-starter", "yogurt", "ricotta", "pickled-onions",
                "italian-bread", "zopf", "dou-sha-bao", "pan-pizza", "wholemeal-pizza", "wholemeal-wheat-flour-pizza-dough",
                "limoncello", "gluehwein", "mushroom-risotto", "mushroom-stragonov", "miso-soup", "coconut-flour-bread",
                "banana-bread", "tzatziki", "turkish-yogurt-soup", "quarkbaellchen", "italian-mulled-wine", "beef-jerky",
                "chicken-stock-bone-broth", "mayonnaise-or-aioli", "steak-tartare", "ceviche", "liverpate", "eggs",
                "rice", "fondue", "irish-coffee", "scandinavian-coffee-cake", "southern-biscuits", "puff-pastry",
                "yorkshire-puddings", "flammkuchen", "okonomiyaki", "onion-raitha"]
SRD_FILES = ["diseases.rst", "monsters/f/fungi/fungi.rst", "monsters/f/fungi/shrieker.rst", "monsters/f/fungi/violet-fungus.rst",
             "monsters/O/oozes/index.rst", "monsters/O/oozes/black-pudding.rst", "monsters/O/oozes/gray-ooze.rst",
             "monsters/O/oozes/ochre-jelly.rst", "monsters/O/oozes/gelatinous-cube.rst", "monsters/O/otyugh.rst",
             "monsters/Z/zombies/index.rst", "monsters/Z/zombies/zombies.rst", "monsters/Z/zombies/ogre-zombie.rst",
             "monsters/M/mummies/mummy.rst", "monsters/M/mummies/mummy-lord.rst", "monsters/g/ghouls.rst",
             "monsters/L/lycanthropes/wererat.rst", "monsters/V/vampires.rst", "monsters/S/shambling-mound.rst",
             "monsters/H/hags/night-hag.rst", "monsters/H/hags/green-hag.rst", "monsters/L/lich.rst",
             "Spellcasting/spells_a-z/d/detect-poison-and-disease.rst"]
SEC_FILES = ["cybersecurity/TTPs/actions-on-objective/ransomware.md", "cybersecurity/TTPs/actions-on-objective/worm.md",
             "cybersecurity/TTPs/c2/botnet.md", "cybersecurity/TTPs/delivery/phishing.md", "cybersecurity/TTPs/delivery/trojan.md",
             "cybersecurity/TTPs/exploitation/denial-of-service.md", "cybersecurity/TTPs/exploitation/MITM.md",
             "cybersecurity/TTPs/exploitation/DNS-amplification.md", "cybersecurity/TTPs/exploitation/injection/XSS.md",
             "cybersecurity/TTPs/exploitation/injection/SQLi.md", "cybersecurity/TTPs/exploitation/pass-the-hash.md",
             "cybersecurity/TTPs/exploitation/binary-exploitation/buffer-overflow.md", "CWP/MGT-attacks/phishing.md",
             "cybersecurity/TTPs/exploitation/DLL-hijacking.md", "cybersecurity/TTPs/exploitation/IDOR.md",
             "cybersecurity/TTPs/exploitation/LLMNR-poisoning.md", "cybersecurity/TTPs/exploitation/injection/DNS-poisoning.md"]
COVID_FILES = ["guidelines.md"] + [f"state_phases/{s}.md" for s in ["ak", "ar", "ca", "co", "fl", "ga", "in"]]


def git_show(mirrors: Path, repo: str, commit: str, path: str) -> str:
    gitdir = mirrors / repo.replace("/", "+") / "repo"
    out = subprocess.run(["git", "--git-dir", str(gitdir), "show", f"{commit}:{path}"], capture_output=True, check=True)
    return out.stdout.decode("utf-8", errors="replace")


def git_ls(mirrors: Path, repo: str, commit: str, under: str) -> list[str]:
    gitdir = mirrors / repo.replace("/", "+") / "repo"
    out = subprocess.run(["git", "--git-dir", str(gitdir), "ls-tree", "-r", "--name-only", commit, under],
                         capture_output=True, check=True, text=True)
    return sorted(out.stdout.splitlines())


def clean_md(text: str) -> str:
    """Markdown/Rmd to plain prose: drop code chunks, figures, refs, HTML; keep headings as lines."""
    text = re.sub(r"^---\n.*?\n---\n", "", text, flags=re.S)
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"^\(ref:[^)]*\).*$", "", text, flags=re.M)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\[\[(?:[^\]|]*\|)?([^\]]*)\]\]", r"\1", text)
    text = re.sub(r"<[^>]+>", " ", text)
    text = html.unescape(text)
    text = re.sub(r"\{[#.][^}]*\}", "", text)
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r"\n\s*\n+", "\n\n", text)
    return text.strip()


def clean_rst(text: str) -> str:
    text = re.sub(r"^[\^~=\-+*#`|]{3,}\s*$", "", text, flags=re.M)
    text = re.sub(r"^\+[-=+]+\+$", "", text, flags=re.M)
    text = re.sub(r"^\|.*\|$", "", text, flags=re.M)
    text = re.sub(r"^\.\. .*$", "", text, flags=re.M)
    text = text.replace("**", "").replace("*", "")
    text = re.sub(r":\w+:`([^`]*)`", r"\1", text)
    return clean_md(text)


def split_sections(text: str, target: int = TARGET) -> list[str]:
    """Split at headings (#) into sections, merge short ones up to target, cut over-long ones at paragraphs."""
    parts = re.split(r"\n(?=#{1,4} )", "\n" + text)
    chunks: list[str] = []
    cur = ""
    for p in parts:
        p = p.strip()
        if not p:
            continue
        if len(cur) + len(p) + 2 <= target or len(cur) < MIN_CHARS:
            cur = (cur + "\n\n" + p).strip()
        else:
            chunks.append(cur)
            cur = p
    if cur:
        chunks.append(cur)
    out: list[str] = []
    for c in chunks:
        while len(c) > MAX_CHARS:
            cut = c.rfind("\n\n", 0, target * 2)
            cut = cut if cut > MIN_CHARS else c.rfind(" ", 0, MAX_CHARS)
            out.append(c[:cut].strip())
            c = c[cut:].strip()
        out.append(c)
    return [c for c in out if len(c) >= MIN_CHARS]


def spread(items: list, k: int) -> list:
    if len(items) <= k:
        return items
    return [items[round(i * (len(items) - 1) / (k - 1))] for i in range(k)]


def doc(source: str, path: str, text: str, style: str, n: int | None = None) -> dict:
    repo, commit, licence = SOURCES[source]
    stem = re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-").lower()
    return {"id": f"extra-{source}-{stem}" + (f"-s{n:02d}" if n is not None else ""), "text": text, "source": source,
            "repo": repo, "commit": commit, "path": path, "url_or_path": f"github:{repo}@{commit[:10]}:{path}",
            "licence": licence, "style": style}


def microbiology_text(m: Path) -> list[dict]:
    repo, commit, _ = SOURCES["microbiology_text"]
    docs = []
    for chap, style in [(c, "textbook") for c in MICRO_POS] + [(c, "textbook_general_science") for c in MICRO_GEN]:
        ext = ".rmd" if chap in ("organic_chemistry", "systematics") else ".Rmd"
        secs = split_sections(clean_md(git_show(m, repo, commit, chap + ext)))
        idx = spread(list(range(len(secs))), MICRO_CAP if style == "textbook" else 8)
        docs += [doc("microbiology_text", chap + ext, secs[i], style, i) for i in idx]
    return docs


def spam_body(raw: str) -> str:
    msg = email.message_from_string(raw, policy=email.policy.default)
    subj = str(msg.get("Subject", ""))
    body = ""
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            try:
                body += part.get_content() + "\n"
            except Exception:  # malformed charset in 2002 spam; fall back to raw payload
                body += str(part.get_payload()) + "\n"
    body = clean_md(body)
    return (subj + "\n\n" + body).strip()[:MAX_CHARS]


def spamassassin(m: Path, k: int = 80) -> list[dict]:
    repo, commit, _ = SOURCES["spamassassin"]
    files = [f for f in git_ls(m, repo, commit, "data/spam-2") if f.endswith(".txt")]
    cue = re.compile(r"virus|bacteri|infect|pharm|herbal|cure|medic|viagra|hgh|immune|disease|health|cancer|diet", re.I)
    picked, rest = [], []
    for f in files:
        t = spam_body(git_show(m, repo, commit, f))
        if not (MIN_CHARS <= len(t) <= MAX_CHARS):
            continue
        (picked if cue.search(t) else rest).append((f, t))
    sel = spread(picked, k - 20) + spread(rest, 20)
    return [doc("spamassassin", f, t, "spam") for f, t in sel]


def based_cooking(m: Path) -> list[dict]:
    repo, commit, _ = SOURCES["based_cooking"]
    out = []
    for name in COOK_FERMENT:
        t = clean_md(git_show(m, repo, commit, f"content/{name}.md"))
        if len(t) >= MIN_CHARS:
            out.append(doc("based_cooking", f"content/{name}.md", t[:MAX_CHARS], "cooking"))
    return out


def open5e(m: Path) -> list[dict]:
    repo, commit, _ = SOURCES["open5e_srd"]
    out = []
    for f in SRD_FILES:
        for i, s in enumerate(split_sections(clean_rst(git_show(m, repo, commit, "docs/source/" + f)), 3000)):
            out.append(doc("open5e_srd", "docs/source/" + f, s, "game", i))
    return out


def trshpuppy(m: Path) -> list[dict]:
    repo, commit, _ = SOURCES["trshpuppy_notes"]
    out = []
    for f in SEC_FILES:
        for i, s in enumerate(split_sections(clean_md(git_show(m, repo, commit, f)), 3000)):
            out.append(doc("trshpuppy_notes", f, s, "security", i))
    return out


def usofcovid(m: Path) -> list[dict]:
    repo, commit, _ = SOURCES["usofcovid"]
    out = []
    for f in COVID_FILES:
        t = clean_md(git_show(m, repo, commit, f))
        if len(t) >= MIN_CHARS:
            out.append(doc("usofcovid", f, t[:MAX_CHARS], "covid_notice"))
    return out


def wiki_notes(m: Path) -> list[dict]:
    """Medical-student notes: microbiology/ID notes (lecture style) and, as collateral-damage negatives, the rest."""
    repo, commit, _ = SOURCES["kangruixiang_wiki"]
    files = [f for f in git_ls(m, repo, commit, "notes") if f.endswith(".md")]
    micro = [f for f in files if WIKI_MICRO.search(f)]
    other = [f for f in files if f not in micro]
    out = []
    for f, style, cap in [(f, "lecture", 0) for f in micro] + [(f, "general_med", 0) for f in spread(other, 400)]:
        secs = split_sections(clean_md(git_show(m, repo, commit, f)), 2000)
        if secs:
            out.append(doc("kangruixiang_wiki", f, secs[0][:READ_CAP], style))
    lec = [d for d in out if d["style"] == "lecture"]
    gen = [d for d in out if d["style"] == "general_med"]
    return spread(lec, 90) + spread(gen, 150)


def tubegraph(m: Path) -> list[dict]:
    repo, commit, _ = SOURCES["tubegraph"]
    files = [f for f in git_ls(m, repo, commit, "content") if f.endswith(".md")]
    used, out = set(), []
    for rx, style, cap in TUBE_STYLES:
        hits = [f for f in files if re.search(rx, f, re.I) and f not in used and not f.endswith("/" + f.split("/")[1] + ".md")]
        got = []
        for f in spread(hits, cap * 3):
            t = clean_md(re.sub(r"\[\d\d:\d\d:\d\d\]", "", git_show(m, repo, commit, f)))
            t = re.sub(r"\s*,\s*(?=[.,])", "", t)
            if len(t) >= MIN_CHARS:
                got.append((f, split_sections(t, 2500)[0][:READ_CAP]))
        for f, t in spread(got, cap):
            used.add(f)
            out.append(doc("tubegraph", f, t, style))
    return out


def readfile_docs(raw_dir: Path) -> list[dict]:
    """Documents fetched one file at a time via the search index's read_file (JSON: repo, commit, path, licence, style, text)."""
    out = []
    for p in sorted(raw_dir.glob("*.json")):
        r = json.loads(p.read_text())
        t = clean_md(r["text"]) if r.get("clean", True) else r["text"]
        for i, s in enumerate(split_sections(t, 3000) if len(t) > MAX_CHARS else [t]):
            if len(s) < MIN_CHARS:
                continue
            stem = re.sub(r"[^A-Za-z0-9]+", "-", r["repo"] + "-" + r["path"]).strip("-").lower()[:90]
            out.append({"id": f"extra-rf-{stem}" + (f"-s{i:02d}" if len(t) > MAX_CHARS else ""), "text": s,
                        "source": "readfile:" + r["repo"], "repo": r["repo"], "commit": r["commit"], "path": r["path"],
                        "url_or_path": f"github:{r['repo']}@{r['commit'][:10]}:{r['path']}", "licence": r["licence"],
                        "style": r["style"]})
    return out


def build(mirrors: Path, raw_dir: Path) -> list[dict]:
    docs = (microbiology_text(mirrors) + spamassassin(mirrors) + based_cooking(mirrors) + open5e(mirrors)
            + trshpuppy(mirrors) + usofcovid(mirrors) + wiki_notes(mirrors) + tubegraph(mirrors) + readfile_docs(raw_dir))
    seen, out = set(), []
    for d in docs:
        if len(d["text"]) > READ_CAP:
            cut = d["text"].rfind("\n\n", 0, READ_CAP)
            d["text"] = d["text"][: cut if cut > MIN_CHARS else READ_CAP].strip()
        h = hashlib.sha256(d["text"].encode()).hexdigest()
        if h in seen or d["id"] in {o["id"] for o in out}:
            continue
        seen.add(h)
        d["sha256"] = h
        out.append(d)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    ap.add_argument("--raw", type=Path, default=Path("/work/extra/raw/readfile"))
    ap.add_argument("--out", type=Path, default=Path("/work/extra/extra.parquet"))
    ap.add_argument("--manifest", type=Path, help="write manifest.jsonl here")
    ap.add_argument("--check", type=Path, help="compare rebuilt sha256 with this manifest")
    a = ap.parse_args()
    import pyarrow as pa
    import pyarrow.parquet as pq
    docs = build(a.mirrors, a.raw)
    cols = ["id", "text", "source", "url_or_path", "licence", "style"]
    a.out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({c: [d[c] for d in docs] for c in cols}), a.out)
    if a.manifest:
        with a.manifest.open("w") as f:
            for d in docs:
                f.write(json.dumps({k: d[k] for k in ["id", "source", "repo", "commit", "path", "licence", "style", "sha256"]}) + "\n")
    if a.check:
        want = {json.loads(l)["id"]: json.loads(l)["sha256"] for l in a.check.open()}
        got = {d["id"]: d["sha256"] for d in docs}
        bad = [i for i in want if got.get(i) != want[i]]
        print(f"checked {len(want)} manifest ids: {len(want) - len(bad)} identical, {len(bad)} missing/different")
    print(f"wrote {len(docs)} documents to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
