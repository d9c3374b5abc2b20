"""YAMNet's second opinion: the shipped ONNX conversion agrees with the original TensorFlow Lite
model on real audio, and a model that asks for it has crying confirmed or taken back."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import onnx
import pytest

from conftest import require_system
from miserymeter.audio.io import read_audio
from miserymeter.constants import SECOND_OPINION_HEAD_KEY
from miserymeter.evaluation.room_echo import in_a_room
from miserymeter.frontend.windows import cover_with_windows
from miserymeter.inference.bundled import DEFAULT_MODEL_PATH, YAMNET_MODEL_PATH, example_clips
from miserymeter.inference.model import Classifier
from miserymeter.inference.second_opinion import (
    ASK_FROM_PROBABILITY,
    CONFUSING_CLASSES,
    CRYING_CLASSES,
    EMBEDDING_SIZE,
    MASKED_FROM,
    MASKED_SHARE,
    YAMNET_PATCH_SAMPLES,
    YAMNET_SAMPLE_RATE_HZ,
    EmbeddingHead,
    Opinions,
    SecondOpinion,
    at_typical_level,
    patches,
)

YAMNET_TFLITE = (
    Path(__file__).resolve().parents[2] / "shared" / "models" / "yamnet" / "yamnet.tflite"
)


@pytest.fixture(scope="module")
def example_patches() -> list[tuple[str, np.ndarray]]:
    """The first two YAMNet patches of every bundled example clip (real recordings)."""
    found = []
    for path in example_clips():
        samples = read_audio(path, sample_rate_hz=YAMNET_SAMPLE_RATE_HZ).samples
        found += [(path.name, p) for p in patches(samples[: 2 * 16_000])]
    return found


def test_converted_yamnet_agrees_with_the_tflite_original_on_real_audio(
    example_patches: list[tuple[str, np.ndarray]],
) -> None:
    """LiteRT runs YAMNet's int8 weights with int8 activations (quantised at run time); the
    ONNX file computes in float from the same weights, so scores differ a little, not verdicts."""
    require_system(None if YAMNET_TFLITE.is_file() else f"{YAMNET_TFLITE} (the shared folder)")
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    metadata = {p.key: p.value for p in onnx.load(str(YAMNET_MODEL_PATH)).metadata_props}
    assert metadata["source_sha256"] == hashlib.sha256(YAMNET_TFLITE.read_bytes()).hexdigest()
    interpreter = litert.Interpreter(str(YAMNET_TFLITE))
    interpreter.allocate_tensors()
    (tflite_input,) = interpreter.get_input_details()
    tflite_scores = interpreter.get_output_details()[0]
    converted = SecondOpinion(YAMNET_MODEL_PATH)
    same_top, correlations = [], []
    for name, patch in example_patches:
        levelled = at_typical_level(patch)[None, :].astype(np.float32)
        interpreter.set_tensor(tflite_input["index"], levelled)
        interpreter.invoke()
        original = interpreter.get_tensor(tflite_scores["index"])[0]
        ours = converted.class_scores(patch)
        for classes in (CRYING_CLASSES, CONFUSING_CLASSES):
            difference = abs(original[list(classes)].max() - ours[list(classes)].max())
            assert difference < 0.25, (name, classes, difference)  # at most 0.21 on the examples
        same_top.append(np.argmax(original) == np.argmax(ours))
        correlations.append(np.corrcoef(original, ours)[0, 1])
    assert len(example_patches) >= 16
    assert np.mean(same_top) >= 0.9
    assert np.median(correlations) > 0.99


def test_yamnet_hears_the_examples_for_what_they_are(
    example_patches: list[tuple[str, np.ndarray]],
) -> None:
    """Crying, a cat and a dog among the four classes YAMNet hears best in the cry, the cat and
    the dog: the converted model's input scale and class order are right."""
    yamnet = SecondOpinion(YAMNET_MODEL_PATH)
    top: dict[str, set[int]] = {}
    for name, patch in example_patches:
        best_four = np.argsort(-yamnet.class_scores(patch))[:4]
        top.setdefault(name, set()).update(int(i) for i in best_four)
    assert top["crying-fullband-esc50-4-185575-B.flac"] & {19, 20}
    assert top["cat-esc50-4-133047-A.flac"] >= {76, 78}
    assert top["dog-esc50-4-184575-A.flac"] >= {69}
    assert not top["music-brahms-hungarian-dance-5.flac"] & {19, 20, 69, 76}


def test_patches_are_heard_at_a_typical_level_whatever_the_microphones_gain() -> None:
    rng = np.random.default_rng(0)
    quiet = (0.001 * rng.standard_normal(YAMNET_PATCH_SAMPLES)).astype(np.float32)
    levelled = at_typical_level(quiet)
    assert np.sqrt(np.mean(levelled**2)) == pytest.approx(0.1, rel=1e-3)
    click = np.zeros(YAMNET_PATCH_SAMPLES, dtype=np.float32)
    click[100] = 0.01
    assert np.abs(at_typical_level(click)).max() == pytest.approx(1.0)  # the peak limits
    silence = np.zeros(YAMNET_PATCH_SAMPLES, dtype=np.float32)
    np.testing.assert_array_equal(at_typical_level(silence), silence)


def test_patches_cover_a_window_end_to_end() -> None:
    two_seconds = np.arange(32_000, dtype=np.float32)
    first, last = patches(two_seconds)
    assert len(first) == len(last) == YAMNET_PATCH_SAMPLES
    assert first[0] == 0 and last[-1] == 31_999
    (short,) = patches(np.ones(8_000, dtype=np.float32))
    assert len(short) == YAMNET_PATCH_SAMPLES and short[8_000:].sum() == 0


def test_the_guard_holds_back_only_where_yamnet_is_sure_of_a_confusing_sound() -> None:
    opinions = Opinions(
        crying=np.array([0.9, 0.3, 0.05, 0.0, 0.6]),
        confusing=np.array([0.0, 0.3, 0.95, 0.0, 0.55]),
        bed=np.zeros(5),
        voice_or_animal=np.zeros(5),
        embeddings=np.zeros((5, EMBEDDING_SIZE)),
    )
    guard = opinions.guard
    assert guard[0] == 1.0  # crying, and nothing else
    assert guard[1] == 1.0  # as much crying as laughter, and not sure of either
    assert guard[2] == pytest.approx(np.sqrt(0.051 / 1.002))  # a meow 19 times as likely
    assert guard[3] == 1.0  # nothing heard: the head decides
    assert guard[4] == 1.0  # sure of a dog, surer of crying


def test_music_is_a_confusing_sound_its_labels_take_crying_back_from() -> None:
    """A lullaby the network takes for crying: YAMNet names it "Music" and nothing of crying,
    so its labels keep little of the network's probability (where it heard neither, they kept
    sqrt(1/2) = 0.71, above the detector's 0.7: held-out music pieces were flagged)."""
    yamnet = SecondOpinion(YAMNET_MODEL_PATH)
    (music,) = [p for p in example_clips() if p.name.startswith("music")]
    samples = read_audio(music, sample_rate_hz=YAMNET_SAMPLE_RATE_HZ).samples
    heard = yamnet.opinions(samples[: 2 * 32_000].reshape(2, 32_000))  # its 4 s
    assert (heard.confusing > 0.5).all()
    assert (heard.labels_factor < 0.2).all()
    assert (heard.guard < 0.2).all()


def test_a_cry_under_a_white_noise_bed_is_masked_not_taken_back() -> None:
    """Under white noise louder than the cry YAMNet hears the bed above crying or laughter: its
    labels cannot tell them apart there, so they no longer take the network's crying back (the
    factor is at least sqrt(MASKED_SHARE)); in a quiet room the same cry is not masked."""
    yamnet = SecondOpinion(YAMNET_MODEL_PATH)
    (cry,) = [p for p in example_clips() if p.name.startswith("crying-fullband")]
    samples = read_audio(cry, sample_rate_hz=YAMNET_SAMPLE_RATE_HZ).samples[:32_000]
    noise = np.random.default_rng(0).standard_normal(len(samples)).astype(np.float32)
    bed = noise * np.sqrt(np.mean(samples**2) / np.mean(noise**2)) * 2  # -6 dB
    heard = yamnet.opinions(np.stack([samples, samples + bed]))
    assert heard.masked.tolist() == [False, True]
    assert heard.labels_factor[1] == pytest.approx(np.sqrt(MASKED_SHARE))
    assert heard.labels_factor[0] == pytest.approx(np.sqrt(heard.crying_share[0]))


def test_a_voice_heard_through_the_bed_is_not_masked() -> None:
    """Speech over white noise 10 dB under it: YAMNet hears the bed (from MASKED_FROM) above
    crying and every confusing sound, but hears "Speech" above the bed, so the bed masks
    nothing and the labels still take the network's crying back (babble under a white-noise
    machine was the validation nights' commonest false alarm)."""
    yamnet = SecondOpinion(YAMNET_MODEL_PATH)
    (speech,) = [p for p in example_clips() if p.name.startswith("speech")]
    samples = read_audio(speech, sample_rate_hz=YAMNET_SAMPLE_RATE_HZ).samples[:32_000]
    noise = np.random.default_rng(0).standard_normal(len(samples)).astype(np.float32)
    bed = noise * np.sqrt(np.mean(samples**2) / np.mean(noise**2)) / np.sqrt(10)  # -10 dB
    heard = yamnet.opinions(samples[None, :] + bed)
    assert heard.bed[0] >= MASKED_FROM
    assert heard.bed[0] > max(heard.crying[0], heard.confusing[0])
    assert heard.voice_or_animal[0] > heard.bed[0]
    assert heard.masked.tolist() == [False]
    unheard = dataclasses.replace(heard, voice_or_animal=np.zeros(1))
    assert unheard.masked.tolist() == [True]


def test_a_sure_head_is_not_held_back_by_what_yamnet_names_in_a_rooms_echo() -> None:
    """In a small room's echo YAMNet hears part of the bundled phone cry as laughter (0.7),
    and its guard would cut the head's crying to a tenth; the head, taught on laughs, cats and
    dogs among its other sounds, is sure (from its `sure` level) it hears crying, and is kept."""
    yamnet = SecondOpinion(YAMNET_MODEL_PATH)
    with_opinion = Classifier(DEFAULT_MODEL_PATH)
    alone = Classifier(DEFAULT_MODEL_PATH, second_opinion=False)
    head = EmbeddingHead.from_json(
        {p.key: p.value for p in onnx.load(str(DEFAULT_MODEL_PATH)).metadata_props}[
            SECOND_OPINION_HEAD_KEY
        ]
    )
    (cry,) = [p for p in example_clips() if p.name.startswith("crying-phone")]
    samples = read_audio(cry, sample_rate_hz=YAMNET_SAMPLE_RATE_HZ).samples
    _, windows = cover_with_windows(
        in_a_room(
            samples,
            np.random.default_rng(0),
            rt60_s=0.5,
            direct_db=5,
            sample_rate_hz=YAMNET_SAMPLE_RATE_HZ,
        ),
        with_opinion.info.n_window,
    )
    window = windows[1:2]  # its second 2 s
    heard = yamnet.opinions(window)
    assert heard.guard[0] < 0.2  # YAMNet is sure of a confusing sound, surer than of crying
    sure = head.probability(heard.embeddings)[0]
    assert head.sure is not None and sure >= head.sure
    crying = with_opinion.info.labels.index("crying")
    assert alone.score(window)[0, crying] * heard.labels_factor[0] < 0.7  # its labels: no
    assert with_opinion.score(window)[0, crying] == pytest.approx(sure, abs=1e-4)


def test_the_head_travels_in_metadata_and_refuses_a_wrong_size() -> None:
    head = EmbeddingHead(np.linspace(-1, 1, EMBEDDING_SIZE), bias=-0.25)
    again = EmbeddingHead.from_json(head.to_json())
    np.testing.assert_allclose(again.weights, head.weights, rtol=1e-5)
    assert again.bias == head.bias
    embeddings = np.random.default_rng(0).normal(size=(3, EMBEDDING_SIZE))
    np.testing.assert_allclose(
        again.probability(embeddings), head.probability(embeddings), rtol=1e-4, atol=1e-9
    )
    with pytest.raises(ValueError, match="weights"):
        EmbeddingHead.from_json('{"weights": [1.0, 2.0], "bias": 0}')


def test_the_bundled_model_asks_yamnet_where_the_network_hears_crying() -> None:
    """YAMNet's head decides the crying probability of the windows the network finds likely
    to be crying: up for the cries, down for the cat; the others keep their proportions."""
    with_opinion = Classifier(DEFAULT_MODEL_PATH)
    alone = Classifier(DEFAULT_MODEL_PATH, second_opinion=False)
    labels = with_opinion.info.labels
    crying = labels.index("crying")
    windows = []
    for path in example_clips():
        samples = read_audio(path, sample_rate_hz=YAMNET_SAMPLE_RATE_HZ).samples
        windows.append(samples[: with_opinion.info.n_window])
    batch = np.stack([np.pad(w, (0, with_opinion.info.n_window - len(w))) for w in windows])
    confirmed, raw = with_opinion.score(batch), alone.score(batch)
    np.testing.assert_allclose(confirmed.sum(axis=1), 1.0, atol=1e-5)
    not_asked = raw[:, crying] < ASK_FROM_PROBABILITY
    np.testing.assert_array_equal(confirmed[not_asked], raw[not_asked])
    names = [p.name for p in example_clips()]
    cat = names.index("cat-esc50-4-133047-A.flac")
    assert confirmed[cat, crying] < raw[cat, crying] - 0.1
    assert confirmed[names.index("crying-fullband-esc50-4-185575-B.flac"), crying] > 0.9
    others = [k for k in range(len(labels)) if k != crying]
    asked = ~not_asked
    np.testing.assert_allclose(
        confirmed[asked][:, others] / confirmed[asked][:, others].sum(axis=1, keepdims=True),
        raw[asked][:, others] / raw[asked][:, others].sum(axis=1, keepdims=True),
        atol=1e-5,
    )
