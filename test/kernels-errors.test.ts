// Bad arguments to the kernels are refused with an error that names the kernel and the sizes,
// in both backends; none reaches native code where it could read or write out of bounds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KernelArgumentError, kernels as k, nativeKernels } from '../src/kernels/index.js';

const f = (n: number) => new Float32Array(n);

function refuses(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: Error) => {
    assert.ok(e instanceof KernelArgumentError, `expected a KernelArgumentError, got ${e.name}: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('kernels refuse bad arguments', () => {
  it('gemm: buffers too small for the shapes, bad leading dimensions, bad sizes', () => {
    refuses(() => k.gemm(false, false, 3, 4, 5, 1, f(14), 0, 5, 0, f(20), 0, 4, 0, 0, f(12), 0, 4, 0, 1), /^gemm: A \(op\(A\) 3 x 5, op\(B\) 5 x 4, C 3 x 4, ld 5, offset 0, batch 1, stride 0\) needs 15 elements, but its buffer has 14$/);
    refuses(() => k.gemm(false, true, 3, 4, 5, 1, f(15), 0, 5, 0, f(19), 0, 5, 0, 0, f(12), 0, 4, 0, 1), /gemm: B .*transposed.* needs 20 elements, but its buffer has 19/);
    refuses(() => k.gemm(false, false, 3, 4, 5, 1, f(15), 0, 5, 0, f(20), 0, 4, 0, 0, f(12), 1, 4, 0, 1), /gemm: C .*offset 1.* needs 13 elements/);
    refuses(() => k.gemm(false, false, 2, 2, 2, 1, f(8), 0, 2, 4, f(8), 0, 2, 4, 0, f(8), 0, 2, 4, 3), /gemm: A .*batch 3, stride 4\) needs 12 elements, but its buffer has 8/);
    refuses(() => k.gemm(false, false, 3, 4, 5, 1, f(15), 0, 4, 0, f(20), 0, 4, 0, 0, f(12), 0, 4, 0, 1), /gemm: lda = 4 is less than the 5 columns of A/);
    refuses(() => k.gemm(false, false, -1, 4, 5, 1, f(15), 0, 5, 0, f(20), 0, 4, 0, 0, f(12), 0, 4, 0, 1), /gemm: m must be an integer in \[0, 2\^31\), got -1/);
    refuses(() => k.gemm(false, false, 1.5, 4, 5, 1, f(15), 0, 5, 0, f(20), 0, 4, 0, 0, f(12), 0, 4, 0, 1), /gemm: m must be an integer/);
    refuses(() => k.gemm(false, false, 3, 4, 5, NaN, f(15), 0, 5, 0, f(20), 0, 4, 0, 0, f(12), 0, 4, 0, 1), /gemm: alpha must be a finite number, got NaN/);
    refuses(() => k.gemm(false, false, 3, 4, 5, 1, f(15), 0, 5, 0, f(20), 0, 4, 0, Infinity, f(12), 0, 4, 0, 1), /gemm: beta must be a finite number, got Infinity/);
  });

  it('wrong buffer kinds', () => {
    refuses(() => k.add(new Float64Array(3) as unknown as Float32Array, f(3), f(3), 3), /^add: a must be a Float32Array, got Float64Array\(3\)$/);
    refuses(() => k.reluForward([1, 2] as unknown as Float32Array, f(2), 2), /reluForward: x must be a Float32Array, got Array/);
    refuses(() => k.embeddingForward(Float32Array.of(0) as unknown as Int32Array, f(3), f(3), 1, 3), /embeddingForward: ids must be an Int32Array, got Float32Array\(1\)/);
    refuses(() => k.logSoftmaxNllForward(f(6), [0, 1] as unknown as Int32Array, f(6), f(2), 2, 3), /logSoftmaxNllForward: target must be an Int32Array, got Array/);
    refuses(() => k.gemm(false, false, 1, 1, 1, 1, null as unknown as Float32Array, 0, 1, 0, f(1), 0, 1, 0, 0, f(1), 0, 1, 0, 1), /gemm: A must be a Float32Array, got null/);
  });

  it('short buffers for row-wise kernels name rows and cols', () => {
    refuses(() => k.layerNormForward(f(12), f(4), f(4), f(11), f(3), f(3), 3, 4, 1e-5), /^layerNormForward: y \(rows x cols = 3 x 4\) needs 12 elements, but its buffer has 11$/);
    refuses(() => k.layerNormForward(f(12), f(3), f(4), f(12), f(3), f(3), 3, 4, 1e-5), /layerNormForward: w \(cols = 4\) needs 4 elements, but its buffer has 3/);
    refuses(() => k.layerNormForward(f(12), f(4), f(4), f(12), f(2), f(3), 3, 4, 1e-5), /layerNormForward: mean \(rows = 3\) needs 3 elements/);
    refuses(() => k.layerNormForward(f(12), f(4), f(4), f(12), f(3), f(3), 3, 4, 0), /layerNormForward: eps must be a positive finite number, got 0/);
    refuses(() => k.softmaxBackward(f(6), f(6), f(5), 2, 3), /softmaxBackward: dx \(rows x cols = 2 x 3\) needs 6 elements, but its buffer has 5/);
    refuses(() => k.add(f(3), f(2), f(3), 3), /add: b \(n = 3\) needs 3 elements, but its buffer has 2/);
    refuses(() => k.sumRows(f(6), f(2), 2, 3), /sumRows: dbias \(cols = 3\) needs 3 elements/);
    refuses(() => k.copy(f(4), f(3), 4), /copy: out \(n = 4\) needs 4 elements, but its buffer has 3/);
  });

  it('indices out of range', () => {
    refuses(() => k.embeddingForward(Int32Array.of(0, 4), f(12), f(6), 2, 3), /embeddingForward: ids\[1\] = 4 is out of range for a table of 4 rows x 3/);
    refuses(() => k.embeddingBackward(Int32Array.of(-1), f(3), f(12), 1, 3), /embeddingBackward: ids\[0\] = -1 is out of range/);
    refuses(() => k.logSoftmaxNllForward(f(6), Int32Array.of(0, 3), f(6), f(2), 2, 3), /logSoftmaxNllForward: target\[1\] = 3 is out of range for 3 classes/);
    refuses(() => k.logSoftmaxNllBackward(f(6), Int32Array.of(7, 0), f(6), 2, 3, 1), /logSoftmaxNllBackward: target\[0\] = 7 is out of range/);
  });

  it('non-finite or impossible scalars', () => {
    refuses(() => k.axpy(NaN, f(2), f(2), 2), /axpy: alpha must be a finite number, got NaN/);
    refuses(() => k.scale(f(2), -Infinity, f(2), 2), /scale: alpha must be a finite number, got -Infinity/);
    refuses(() => k.logSoftmaxNllBackward(f(3), Int32Array.of(0), f(3), 1, 3, NaN), /logSoftmaxNllBackward: scale must be a finite number/);
    refuses(() => k.adam(f(2), f(2), f(2), f(2), 2, NaN, 0.9, 0.999, 1e-8, 1), /adam: lr must be a finite number, got NaN/);
    refuses(() => k.adam(f(2), f(2), f(2), f(2), 2, 1e-3, 1, 0.999, 1e-8, 1), /adam: beta1 must be in \[0, 1\), got 1/);
    refuses(() => k.adam(f(2), f(2), f(2), f(2), 2, 1e-3, 0.9, 0.999, 1e-8, 0), /adam: step must be an integer >= 1, got 0/);
    refuses(() => k.setThreads(0), /setThreads: threads must be an integer in \[1, 256\], got 0/);
  });

  it('the raw addon throws (never crashes) on a wrong buffer kind', { skip: nativeKernels ? false : 'the native kernels are not loaded in this run' }, () => {
    assert.throws(() => nativeKernels!.add(f(2), [1, 2] as unknown as Float32Array, f(2), 2), /argument 1 must be a Float32Array/);
    assert.throws(() => nativeKernels!.embeddingForward(f(1) as unknown as Int32Array, f(3), f(3), 1, 3), /argument 0 must be an Int32Array/);
  });
});
