// The inspect page in a real browser: Debian's headless Chromium loads it, its script renders
// every piece of text, the legend and the layer selector; a screenshot is kept as an artifact
// (test-artifacts/inspect-page.png). Text that looks like markup must stay text.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { Vocabulary } from '../src/data/vocabulary.js';
import { makeConfig } from '../src/model/config.js';
import { inspectTokens } from '../src/model/inspection.js';
import { SequenceModel } from '../src/model/sequence-model.js';
import { inspectPage, textPieces } from '../src/report/inspect-page.js';
import { Random } from '../src/tensor/random.js';

const BROWSERS = [process.env.CHROMIUM, 'chromium', 'chromium-browser', 'google-chrome'].filter((b): b is string => !!b);
const browser = BROWSERS.find((b) => spawnSync(b, ['--version'], { encoding: 'utf8' }).status === 0);
// CI installs Chromium and sets this: there a missing browser is a failure, not a skip.
const required = process.env.EXPIRE_SPAN_REQUIRE_BROWSER === '1';
const skip = !browser && !required ? 'no Chromium found (apt-get install chromium, or set CHROMIUM=path)' : false;

const dir = mkdtempSync(join(tmpdir(), 'browser-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function chromium(args: string[]): string {
  assert.ok(browser, `no Chromium found (tried ${BROWSERS.join(', ')})`);
  const r = spawnSync(browser, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', `--user-data-dir=${join(dir, 'profile')}`, ...args], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `${browser} failed: ${r.stderr}`);
  return r.stdout;
}

describe('inspect page in headless Chromium', { skip }, () => {
  it('renders the text, the legend and the layer selector', () => {
    const config = makeConfig({ vocabSize: 256, hidSz: 16, innerHidSz: 32, nlayers: 3, nheads: 2, memSz: 16, attnLim: 128, expireSpan: true, expireSpanRamp: 8 });
    const model = new SequenceModel(config, 3);
    const r = new Random(2);
    for (const [name, p] of model.params.entries()) if (name.includes('span_predictor.weight')) for (let i = 0; i < p.size; i++) p.data[i] = r.normal() * 3;
    const text = 'Expire-Span keeps <b>this</b> and </script> that: naïve 🦊\n'.repeat(6);
    const tokens = Int32Array.from(new TextEncoder().encode(text));
    const pieces = textPieces(Vocabulary.bytes(), tokens);
    const page = join(dir, 'index.html');
    writeFileSync(page, inspectPage(inspectTokens(model, tokens), pieces, 'a test text'));

    const dom = chromium(['--dump-dom', `file://${page}`]);
    assert.match(dom, /<body data-rendered="true">/, 'the page script ran to the end');
    assert.equal(dom.match(/<span data-i="\d+" style="background: rgb\(/g)?.length, pieces.length, 'every piece is rendered and coloured');
    assert.equal([...text].length, pieces.length, 'one piece per character');
    assert.match(dom, /128 \(attn-lim\)/);
    assert.equal(dom.match(/<option value="\d">layer \d: mean span [\d.]+, holds \d+ on average<\/option>/g)?.length, 3);
    // Markup in the text is shown as text (one character per span), never parsed.
    assert.ok(dom.includes('>&lt;</span>') && !dom.includes('<b>'), 'markup in the text stays text');
    assert.ok(dom.includes('🦊'), 'a four-byte character survives');

    const artifacts = resolve('test-artifacts');
    mkdirSync(artifacts, { recursive: true });
    const shot = join(artifacts, 'inspect-page.png');
    chromium([`--screenshot=${shot}`, '--window-size=1000,600', `file://${page}`]);
    assert.ok(statSync(shot).size > 10_000, 'the screenshot holds a picture');
  });
});
