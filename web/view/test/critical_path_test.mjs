// Unit tests of the critical-path algorithm (web/view/src/critical.js) on
// constructed traces: sequential, overlapping, asynchronous and skewed
// children, nesting, several roots, a 10 000-deep chain, a parent cycle.
//   node web/view/test/critical_path_test.mjs        (ctest: view_critical_path)
import assert from 'node:assert/strict';
import test from 'node:test';
import { buildModel } from '../src/model.js';
import { criticalPath } from '../src/critical.js';

const T0 = 1700000000000000000n;
// spans: [id, parent, start, end] in ns from T0.
function model(spans) {
  return buildModel({
    spans: spans.map(([id, parent, start, end]) => ({
      spanId: id,
      parentSpanId: parent,
      name: id,
      service: 's',
      startTimeUnixNano: (T0 + BigInt(start)).toString(),
      endTimeUnixNano: (T0 + BigInt(end)).toString(),
      durationNano: end - start,
    })),
  });
}
function path(m) {
  const { on, segments } = criticalPath(m);
  const ids = m.spans.filter((_, i) => on[i]).map((s) => s.spanId).sort();
  const seg = {};
  for (const [i, list] of segments) seg[m.spans[i].spanId] = list;
  // Segments are relative to the trace's first start.
  return { ids, seg };
}

test('sequential children are all on the path, with the parent between them', () => {
  const { ids, seg } = path(model([['r', '', 0, 100], ['a', 'r', 10, 40], ['b', 'r', 50, 90]]));
  assert.deepEqual(ids, ['a', 'b', 'r']);
  assert.deepEqual(seg.r, [[90, 100], [40, 50], [0, 10]]);
  assert.deepEqual(seg.a, [[10, 40]]);
});

test('of overlapping children, the one that ends last is on the path, not the one it overlaps', () => {
  const { ids, seg } = path(model([['r', '', 0, 100], ['a', 'r', 0, 90], ['b', 'r', 10, 60]]));
  assert.deepEqual(ids, ['a', 'r']);
  assert.deepEqual(seg.r, [[90, 100]]);
});

test('a child that ends before the overlapping one starts is on the path again', () => {
  const { ids } = path(model([['r', '', 0, 100], ['a', 'r', 50, 95], ['b', 'r', 40, 70], ['c', 'r', 5, 45]]));
  assert.deepEqual(ids, ['a', 'c', 'r']);
});

test('an asynchronous child that ends after its parent counts up to the parent\'s end', () => {
  const { ids, seg } = path(model([['r', '', 0, 100], ['async', 'r', 20, 150], ['b', 'r', 0, 50]]));
  assert.deepEqual(ids, ['async', 'r']);
  assert.deepEqual(seg.async, [[20, 100]]);
  assert.deepEqual(seg.r, [[0, 20]]);
});

test('clock skew: a child starting before its parent is clamped; one wholly outside is skipped', () => {
  const { ids, seg } = path(model([['r', '', 100, 200], ['early', 'r', 80, 190], ['outside', 'r', 300, 350]]));
  assert.deepEqual(ids, ['early', 'r']);
  // Relative to the first start (80): the root is [20, 120].
  assert.deepEqual(seg.early, [[20, 110]]);
  assert.deepEqual(seg.r, [[110, 120]]);
  assert.equal(seg.outside, undefined);
});

test('nesting: the path goes down into the child\'s own children', () => {
  const { ids } = path(
    model([['r', '', 0, 100], ['a', 'r', 10, 95], ['a1', 'a', 10, 30], ['a2', 'a', 40, 90], ['b', 'r', 5, 20]]),
  );
  assert.deepEqual(ids, ['a', 'a1', 'a2', 'r']);
});

test('several roots: the one that ends last', () => {
  const { ids } = path(model([['r1', '', 0, 100], ['r2', '', 0, 120], ['c', 'r2', 10, 110], ['d', 'r1', 0, 100]]));
  assert.deepEqual(ids, ['c', 'r2']);
});

test('a 10 000-deep chain (no recursion) and a parent cycle terminate', () => {
  const spans = [['s0', '', 0, 20000]];
  for (let k = 1; k < 10000; k++) spans.push([`s${k}`, `s${k - 1}`, k, 20000 - k]);
  assert.equal(path(model(spans)).ids.length, 10000);
  const cyc = path(model([['r', '', 0, 100], ['x', 'y', 10, 20], ['y', 'x', 12, 18]]));
  assert.deepEqual(cyc.ids, ['r']);
});

test('zero-length children are not on the path', () => {
  const { ids } = path(model([['r', '', 0, 100], ['z', 'r', 100, 100]]));
  assert.deepEqual(ids, ['r']);
});
