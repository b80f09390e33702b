"""The web page at / in a real browser (Debian's chromium, headless, driven by selenium): each
panel's main action against the three tiny models, and a screenshot of the page."""
import shutil

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from pipeline.service import create_app
from stages.mdr import WEB
from translation.images.data import encode_png

pytestmark = pytest.mark.slow   # runs stages, clusters, servers or a browser: left out of the inner loop


@pytest.fixture(scope="module")
def page(all_models, serve_app):
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver_path, "chromium and chromium-driver are missing: run scripts/setup.sh"
    server, thread, url = serve_app(create_app(all_models, web=WEB))
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,2400"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.get(url + "/")
        wait(driver).until(lambda d: "Serving:" in d.find_element(By.ID, "status").text)
        yield driver, url
    finally:
        driver.quit()
        server.should_exit = True
        thread.join(5)


def wait(driver, seconds=60):
    """Polls until a condition holds; an element the page replaced while it was being read (a list
    re-rendered mid-poll, likelier on a loaded machine) is read again at the next poll."""
    return WebDriverWait(driver, seconds, ignored_exceptions=(StaleElementReferenceException,))


def items(driver, list_id):
    return [li.text for li in driver.find_elements(By.CSS_SELECTOR, f"#{list_id} li")]


def test_every_served_model_has_its_panel(page):
    driver, _ = page
    for panel in ("recommender", "translator", "speech_text"):
        assert driver.find_element(By.ID, panel).is_displayed()
    assert "recommender, translator, speech_text" in driver.find_element(By.ID, "status").text


def test_recommendations_rerank_live_with_a_concept_slider(page, served_recommender):
    driver, _ = page
    user = str(served_recommender.data.user_ids["train"][0])
    driver.find_element(By.ID, "rec-user").send_keys(user)
    driver.find_element(By.CSS_SELECTOR, "#rec-form button").click()
    wait(driver).until(lambda d: len(items(d, "rec-results")) == 10)
    before = items(driver, "rec-results")
    labels = [s["label"] for s in served_recommender.concept_summaries()]
    assert [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#rec-sliders .concept-label")] == labels
    assert any(label.startswith("cat") for label in labels)   # named by categories, not "concept N"
    top = served_recommender.describe(*served_recommender.recommend(served_recommender.user_history(user), 1))[0]
    assert before[0].split(" ", 1)[1].startswith(f"{top['title']} [{top['item']}] ({', '.join(top['categories'])})")
    sliders = driver.find_elements(By.CSS_SELECTOR, "#rec-sliders input[type=range]")
    assert len(sliders) == served_recommender.concepts
    for c, slider in enumerate(sliders):   # keep concept 0 only, as a person dragging the others to 0
        driver.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'))",
                              slider, "1" if c == 0 else "0")
    wait(driver).until(lambda d: items(d, "rec-results") != before)
    tags = [t.text for t in driver.find_elements(By.CSS_SELECTOR, "#rec-results .concept")]
    assert tags.count("0") > [b.split()[0] for b in before].count("0")   # concept 0's items gained places
    # a typed history with an unknown item: recommended from the rest, the unknown one named
    driver.find_element(By.CSS_SELECTOR, "input[name=rec-by][value=history]").click()
    known = ",".join(str(i) for i in served_recommender.data.item_ids[:3])
    driver.find_element(By.ID, "rec-history").send_keys(known + ",no-such-item")
    driver.find_element(By.CSS_SELECTOR, "#rec-form button").click()
    wait(driver).until(lambda d: "no-such-item" in d.find_element(By.ID, "rec-note").text)


def test_an_uploaded_image_is_translated_and_searched(page, tmp_path, tiny_images):
    driver, _ = page
    path = tmp_path / "digit.png"
    path.write_bytes(encode_png(tiny_images.splits["a_test"].images[0]))
    driver.find_element(By.ID, "img-file").send_keys(str(path))
    driver.find_element(By.CSS_SELECTOR, "#img-form button").click()
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#img-search img")) == 8)
    assert len(driver.find_elements(By.CSS_SELECTOR, "#img-translations img")) == 4
    loaded = "return [...document.querySelectorAll('#img-search img, #img-translations img')].every(i => i.complete && i.naturalWidth > 0)"
    wait(driver).until(lambda d: d.execute_script(loaded))


def test_a_word_is_pronounced_spelled_back_and_a_clip_finds_spellings(page, tmp_path, served_speech):
    driver, url = page
    word = served_speech.words[0]
    driver.find_element(By.ID, "sp-word").send_keys(word)
    driver.find_element(By.CSS_SELECTOR, "#word-form button").click()
    wait(driver).until(lambda d: len(items(d, "sp-clips")) == 8)
    assert driver.find_element(By.ID, "sp-g2p").text.startswith(f"{word}: /")
    driver.find_element(By.CSS_SELECTOR, "#p2g-form button").click()   # G2P's phonemes, filled in
    wait(driver).until(lambda d: "is spelled" in d.find_element(By.ID, "sp-p2g").text)
    clip = tmp_path / "clip.wav"
    clip.write_bytes(httpx.get(f"{url}/clips/0").content)
    driver.find_element(By.ID, "sp-file").send_keys(str(clip))
    driver.find_element(By.CSS_SELECTOR, "#clip-form button[type=submit]").click()
    wait(driver).until(lambda d: len(items(d, "sp-spellings")) == 10)
    assert driver.find_element(By.ID, "sp-heard").text.startswith("Heard /")


def test_a_bad_request_is_said_on_the_page_and_a_screenshot_is_kept(page, tmp_path):
    driver, _ = page
    driver.find_element(By.ID, "sp-phonemes").clear()
    driver.find_element(By.ID, "sp-phonemes").send_keys("QQ ZZ")
    driver.find_element(By.CSS_SELECTOR, "#p2g-form button").click()
    wait(driver).until(lambda d: "is not 1 to 30 ARPAbet symbols" in d.find_element(By.ID, "sp-p2g").text)
    shot = tmp_path / "web.png"
    assert driver.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"screenshot: {shot}")


def test_each_model_brings_its_panel_and_the_frame_names_none(page):
    _, url = page
    for name in ("recommender", "translator", "speech_text"):
        script = httpx.get(f"{url}/panels/{name}/panel.js")
        assert script.status_code == 200 and f"mdr.panels.{name} =" in script.text
        assert httpx.get(f"{url}/panels/{name}/panel.html").text.startswith(f'<section id="{name}"')
    frame = httpx.get(f"{url}/").text + httpx.get(f"{url}/app.js").text
    assert not any(name in frame for name in ("recommender", "translator", "speech_text"))
