// Model configuration: the reference's defaults, and impossible configs refused by field name.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, configFromReferenceArgs, DEFAULT_CONFIG, makeConfig, positionLength } from '../src/model/config.js';

describe('model configuration', () => {
  it('has the reference defaults and resolves the head width', () => {
    const c = makeConfig({ vocabSize: 10 });
    assert.equal(c.hidSz, 256);
    assert.equal(c.innerHidSz, 1024);
    assert.equal(c.nlayers, 8);
    assert.equal(c.nheads, 2);
    assert.equal(c.headDim, 128);
    assert.equal(c.memSz, 64);
    assert.equal(c.attnLim, 64);
    assert.equal(c.dropout, 0.2);
    assert.equal(c.expireSpanRamp, 32);
    assert.equal(c.expireSpanInitPercentage, 0.1);
    assert.equal(DEFAULT_CONFIG.compressRate, 4);
    assert.equal(makeConfig({ vocabSize: 10, hidSz: 16, nheads: 4, headDim: 3 }).headDim, 3);
  });

  it('refuses impossible configs, naming the flag', () => {
    const refused = (partial: object, pattern: RegExp) =>
      assert.throws(() => makeConfig({ vocabSize: 10, ...partial }), (e: Error) => e instanceof ConfigError && pattern.test(e.message));
    refused({ hidSz: 10, nheads: 3 }, /^--nheads: hid-sz 10 is not divisible by 3 heads/);
    refused({ memSz: 64, attnLim: 32 }, /^--attn-lim: must be at least mem-sz \(64\), got 32/);
    refused({ expireSpanRamp: -1 }, /^--expire-span-ramp: must be an integer from 1 to 16777216, got -1/);
    refused({ expireSpanRamp: 0 }, /^--expire-span-ramp: must be an integer from 1 to 16777216, got 0/);
    refused({ expireSpanRamp: 2.5 }, /^--expire-span-ramp: must be an integer/);
    refused({ expireSpanInitPercentage: 1 }, /^--expire-span-init-percentage: must be in \(0, 1\), got 1/);
    refused({ dropout: 1 }, /^--dropout: must be in \[0, 1\)/);
    refused({ hidSz: 0 }, /^--hid-sz: must be an integer from 1/);
    refused({ nlayers: 2.5 }, /^--nlayers: must be an integer/);
    refused({ expireSpanPreDiv: 0 }, /^--expire-span-pre-div: must be in \(0, 1e6\], got 0/);
    refused({ expireSpanLoss: 1e30 }, /^--expire-span-loss: must be in \[0, 1000\], got 1e\+30/);
    refused({ expireSpanLoss: NaN }, /^--expire-span-loss: must be in \[0, 1000\], got NaN/);
    refused({ vocabSize: 0 }, /^--vocab-sz: must be an integer from 1/);
    refused({ preNorm: 'yes' }, /^--pre-norm: must be true or false/);
    refused({ expireSpan: true, adaptSpan: true }, /^--adapt-span: choose one of --expire-span, --adapt-span and --compress/);
    refused({ compress: true, compressRate: 3, compressSize: 12 }, /^--compress-rate: must divide mem-sz 64, got 3/);
    refused({ compress: true, compressRate: 4, compressSize: 10 }, /^--compress-size: must be a multiple of compress-rate 4/);
  });

  it("reads the reference's args and sizes the position embedding per model", () => {
    const args = { hid_sz: 16, inner_hid_sz: 32, nlayers: 2, nheads: 2, head_dim: 8, mem_sz: 8, attn_lim: 32, dropout: 0, expire_span: true, expire_span_ramp: 4, vocab_sz: 11 };
    const c = configFromReferenceArgs(args);
    assert.equal(c.vocabSize, 11);
    assert.equal(c.expireSpanRamp, 4);
    assert.equal(positionLength(c), 8);
    assert.equal(positionLength(configFromReferenceArgs({ ...args, expire_span: false })), 32);
    assert.equal(positionLength(configFromReferenceArgs({ ...args, expire_span: false, compress: true, compress_rate: 2, compress_size: 8 })), 32 + 4 + 1);
    assert.throws(() => configFromReferenceArgs({ ...args, feedback: true }), /--feedback models are not supported/);
  });
});
