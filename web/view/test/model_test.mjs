// Unit tests of the trace page's model (web/view/src/model.js): resources and
// scopes given back to the spans from the API's by-reference answer, and the
// spans' offsets and the trace's length computed without BigInt, equal to the
// BigInt arithmetic across a carry of the last 15 digits.
//   node --test web/view/test/model_test.mjs        (ctest: view_model)
import assert from 'node:assert/strict';
import test from 'node:test';
import { attachContexts, buildModel } from '../src/model.js';

test('spans get their resource and scope back by index', () => {
  const trace = {
    traceId: 't',
    spans: [
      { spanId: 'a', parentSpanId: '', resourceIndex: 1, scopeIndex: 0, startTimeUnixNano: '1', endTimeUnixNano: '2' },
      { spanId: 'b', parentSpanId: 'a', resourceIndex: 0, scopeIndex: 0, startTimeUnixNano: '1', endTimeUnixNano: '2' },
    ],
    resources: [{ attributes: { 'service.name': 'x' } }, { attributes: { 'service.name': 'y' } }],
    scopes: [{ name: 'lib', version: '1' }],
  };
  attachContexts(trace);
  assert.equal(trace.spans[0].resource.attributes['service.name'], 'y');
  assert.equal(trace.spans[1].resource.attributes['service.name'], 'x');
  assert.equal(trace.spans[0].scope, trace.scopes[0]); // shared, not copied
  // A span that already has its objects (the older answer) keeps them.
  const old = { spans: [{ spanId: 'c', resource: { attributes: {} }, scope: { name: 'o' } }] };
  attachContexts(old);
  assert.equal(old.spans[0].scope.name, 'o');
});

test('offsets, order and length equal the BigInt arithmetic', () => {
  // Starts on both sides of a change in the 16th digit from the right.
  const base = 1700000000999999999999990n;
  const starts = [0n, 5n, 10n, 3n, 123456789012n, 9n];
  const ends = [200000000000000n, 8n, 11n, 4n, 123456789013n, 1000000000000009n];
  const spans = starts.map((s, k) => ({
    spanId: `s${k}`,
    parentSpanId: k ? 's0' : '',
    startTimeUnixNano: (base + s).toString(),
    endTimeUnixNano: (base + ends[k]).toString(),
    durationNano: Number(ends[k] - s),
    status: k === 2 ? { code: 'ERROR' } : { code: 'UNSET' },
  }));
  const m = buildModel({ spans });
  assert.equal(m.t0, base);
  for (let k = 0; k < starts.length; k++) assert.equal(m.offset[k], Number(starts[k]), `span ${k}`);
  assert.equal(m.total, 1000000000000009);
  assert.deepEqual([...m.order].map((i) => spans[i].spanId), ['s0', 's3', 's1', 's5', 's2', 's4']);
  assert.deepEqual(m.errors, [2]);
});

test('an empty trace', () => {
  const m = buildModel({ spans: [] });
  assert.equal(m.order.length, 0);
  assert.equal(m.total, 1);
});
