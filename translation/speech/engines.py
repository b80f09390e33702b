"""The speech engines that make the training and test audio: espeak-ng, festival and flite (Debian
packages, installed by scripts/setup.sh), each speaking either CMUdict phonemes (training clips) or a spelling
through the engine's own text front-end (evaluation queries, as a user's word would be spoken).

A voice is named `engine:voice`: `espeak:en-us+m1` (a bare name is espeak-ng's), `festival:kal_diphone`,
`festival:ked_diphone`, `festival:cmu_us_slt_arctic_hts` (an HTS voice; HTS voices speak spellings only),
`flite:rms`, `flite:awb` (CMU flite's statistical-parametric clustergen voices). VOICES says who speaks
each voice and what kind of synthesizer it is, so that training, dev and test voices can be kept apart
by speaker and a synthesizer family can be held out. Festival speaks a whole job list in one
`festival --batch` process (loading a voice is most of its cost), writing the clips to a temporary folder.
"""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np

from translation.speech.audio import SpeechError, debian_binary, espeak_binary, read_wav, synthesize
from translation.speech.lexicon import PHONEMES, strip_stress

ENGINES = ("espeak", "festival", "flite")
FESTIVAL_VOICES = Path("/usr/share/festival/voices")
# ARPAbet → festival's US "radio" phone set (kal, ked; the HTS voice's and flite's are the same for these);
# unstressed AH is the schwa ax
FESTIVAL_PHONES = {p: p.lower() for p in PHONEMES}


def parse_voice(spec: str) -> tuple[str, str]:
    """'engine:voice' (or a bare espeak-ng voice) → (engine, voice)."""
    engine, _, voice = spec.rpartition(":")
    engine = engine or "espeak"
    if engine not in ENGINES or not voice:
        raise SpeechError(f"voice {spec!r}: expected engine:voice with engine one of {', '.join(ENGINES)}")
    return engine, voice


# Who speaks each festival and flite voice, and the kind of synthesizer it is. Two voices of one
# speaker (festival's SLT HTS voice and flite's slt; festival's kal diphones and flite's kal/kal16) are
# one speaker in any split of voices. Families: espeak-ng's formant synthesis (its Klatt variants too),
# diphone concatenation (festival's and flite's diphone voices), and statistical-parametric synthesis
# (festival's HTS voice and flite's clustergen voices: speech generated from trained acoustic models).
VOICES = {
    "festival:kal_diphone": ("kal", "diphone"), "festival:ked_diphone": ("ked", "diphone"),
    "festival:cmu_us_slt_arctic_hts": ("slt", "parametric"),
    "flite:kal": ("kal", "diphone"), "flite:kal16": ("kal", "diphone"), "flite:slt": ("slt", "parametric"),
    "flite:rms": ("rms", "parametric"), "flite:awb": ("awb", "parametric"),
}


def _entry(spec: str) -> tuple[str, str]:
    engine, voice = parse_voice(spec)
    if engine == "espeak":
        variant = voice.partition("+")[2]
        return (f"espeak+{variant}" if variant else "espeak:default"), "formant"
    key = f"{engine}:{voice}"
    if key not in VOICES:
        raise SpeechError(f"voice {spec!r}: its speaker is not in translation.speech.engines.VOICES "
                          "(add it, so that no speaker is both heard in training and tested on)")
    return VOICES[key]


def speaker(spec: str) -> str:
    """The speaker behind a voice: VOICES for festival and flite; for espeak-ng, its voice variant
    (`+m1`, `+f2`, `+klatt`; none: the default voice), whatever the accent it speaks."""
    return _entry(spec)[0]


def family(spec: str) -> str:
    """The kind of synthesizer behind a voice: 'formant', 'diphone' or 'parametric'."""
    return _entry(spec)[1]


def shared_speakers(*roles: list[str]) -> dict[str, list[str]]:
    """{speaker: its voices} for each speaker whose voices stand in more than one of `roles`."""
    where: dict[str, set[int]] = {}
    voices: dict[str, list[str]] = {}
    for i, role in enumerate(roles):
        for v in role:
            where.setdefault(speaker(v), set()).add(i)
            voices.setdefault(speaker(v), []).append(v)
    return {s: voices[s] for s, r in where.items() if len(r) > 1}


def unseen_families(test: list[str], *seen: list[str]) -> list[str]:
    """The synthesizer families of `test` voices that no voice of `seen` roles belongs to."""
    known = {family(v) for role in seen for v in role}
    return sorted({family(v) for v in test} - known)


def festival_binary() -> str:
    return debian_binary("festival")


def festival_voices() -> list[str]:
    return sorted(p.name for p in FESTIVAL_VOICES.glob("*/*") if p.is_dir())


def flite_binary() -> str:
    return debian_binary("flite")


def flite_voices() -> list[str]:
    """flite's built-in voices (`flite -lv`); flite itself falls back to kal for a name it lacks."""
    done = subprocess.run([flite_binary(), "-lv"], capture_output=True, text=True, timeout=30)
    return done.stdout.split(":", 1)[-1].split()


def check_voice(spec: str) -> str:
    """The voice spec, if its engine and voice are installed; else a SpeechError that names it."""
    engine, voice = parse_voice(spec)
    if engine == "festival":
        festival_binary()
        if voice not in festival_voices():
            raise SpeechError(f"voice {spec!r}: festival has no voice {voice!r} (installed: "
                              f"{', '.join(festival_voices()) or 'none'}; scripts/setup.sh installs the project's)")
    elif engine == "flite":
        if voice not in flite_voices():
            raise SpeechError(f"voice {spec!r}: flite has no voice {voice!r} (built in: {', '.join(flite_voices())})")
    else:
        espeak_binary()
    return spec


def festival_phones(phonemes) -> str:
    out = []
    for p in phonemes:
        base = strip_stress(p)
        if base not in PHONEMES:
            raise SpeechError(f"unknown phoneme {p!r} (known: {' '.join(PHONEMES)})")
        out.append("ax" if base == "AH" and p[len(base):] in ("", "0") else FESTIVAL_PHONES[base])
    return " ".join(out)


def scheme_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def festival_many(jobs: list[tuple[str, str, str]]) -> list[np.ndarray]:
    """jobs: (voice, 'phonemes' | 'spelling', what) → float32 16 kHz clips, in one festival process."""
    with tempfile.TemporaryDirectory(prefix="mdr-festival-") as tmp:
        lines, current = [], None
        for i, (voice, kind, what) in enumerate(jobs):
            if voice != current:
                lines.append(f"(voice_{voice})")
                current = voice
            utt = (f"(Utterance Phones (pau {what} pau))" if kind == "phonemes"
                   else f"(Utterance Text {scheme_string(what)})")
            lines.append(f"(utt.save.wave (utt.synth {utt}) {scheme_string(f'{tmp}/{i}.wav')} 'riff)")
        script = Path(tmp) / "jobs.scm"
        script.write_text("\n".join(lines) + "\n")
        done = subprocess.run([festival_binary(), "--batch", str(script)], capture_output=True,
                              timeout=60 + 5 * len(jobs))
        out = []
        for i, (voice, kind, what) in enumerate(jobs):
            wav = Path(tmp) / f"{i}.wav"
            if not wav.exists():
                raise SpeechError(f"festival made no audio for {kind} {what!r} in voice {voice!r}: "
                                  f"{(done.stdout + done.stderr).decode(errors='replace')[-300:]}")
            out.append(read_wav(wav.read_bytes(), f"festival output for {what!r}"))
        return out


def flite_clip(voice: str, kind: str, what: str) -> np.ndarray:
    """One clip from flite: `what` is festival_phones' phone string (kind 'phonemes') or a spelling."""
    with tempfile.TemporaryDirectory(prefix="mdr-flite-") as tmp:
        wav = Path(tmp) / "clip.wav"
        cmd = [flite_binary(), "-voice", voice, "-p" if kind == "phonemes" else "-t", what, "-o", str(wav)]
        done = subprocess.run(cmd, capture_output=True, timeout=30)
        if done.returncode != 0 or not wav.exists():
            raise SpeechError(f"flite made no audio for {kind} {what!r} in voice {voice!r}: "
                              f"{(done.stdout + done.stderr).decode(errors='replace')[-300:]}")
        return read_wav(wav.read_bytes(), f"flite output for {what!r}")


def espeak_spelling(word: str, voice: str, speed: int = 160) -> np.ndarray:
    """A spelling read by espeak-ng's own text front-end."""
    cmd = [espeak_binary(), "-v", voice, "-s", str(speed), "--stdout", word]
    done = subprocess.run(cmd, capture_output=True, timeout=30)
    if done.returncode != 0 or not done.stdout:
        raise SpeechError(f"espeak-ng failed for voice {voice!r}: {done.stderr.decode(errors='replace')[:200]}")
    return read_wav(done.stdout, f"espeak-ng output for {word!r}")


def speak(jobs: list[tuple[str, str, object]]) -> list[np.ndarray]:
    """jobs: (voice spec, 'phonemes' | 'spelling', stressed ARPAbet phonemes or a spelling) → float32
    16 kHz clips in job order; festival's jobs go through one process."""
    out: list[np.ndarray | None] = [None] * len(jobs)
    festival = []
    for i, (spec, kind, what) in enumerate(jobs):
        engine, voice = parse_voice(spec)
        if kind not in ("phonemes", "spelling"):
            raise ValueError(f"job {i}: kind must be 'phonemes' or 'spelling', got {kind!r}")
        if engine == "festival" and kind == "phonemes" and voice.endswith("_hts"):
            raise SpeechError(f"voice {spec!r}: festival's HTS voices speak spellings only (their phone "
                              "utterances need phrasing that festival does not build from phones)")
        if engine == "festival":
            festival.append((i, (voice, kind, festival_phones(what) if kind == "phonemes" else str(what))))
        elif engine == "flite":
            out[i] = flite_clip(voice, kind, festival_phones(what) if kind == "phonemes" else str(what))
        else:
            out[i] = synthesize(what, voice) if kind == "phonemes" else espeak_spelling(str(what), voice)
    if festival:
        for (i, _), clip in zip(festival, festival_many([job for _, job in festival])):
            out[i] = clip
    return out
