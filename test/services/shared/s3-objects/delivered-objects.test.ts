import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeliveredObjects } from '../../../../src/services/shared/s3-objects/delivered-objects.js';

const ref = (key: string, eTag?: string) => ({
  bucket: 'b',
  key,
  region: 'eu-west-1',
  ...(eTag ? { eTag } : {}),
});

test('remembers objects per message, by bucket, key and ETag', () => {
  const d = new DeliveredObjects();
  d.add('m1', ref('a', 'e1'));
  assert.equal(d.has('m1', ref('a', 'e1')), true);
  assert.equal(d.has('m1', ref('a', 'e2')), false, 'another version of the key is another object');
  assert.equal(d.has('m2', ref('a', 'e1')), false, 'per message');
  d.forget('m1');
  assert.equal(d.has('m1', ref('a', 'e1')), false);
});

test('bounded: the least recently touched message is forgotten first', () => {
  const d = new DeliveredObjects(2);
  d.add('m1', ref('a'));
  d.add('m2', ref('a'));
  d.add('m1', ref('b')); // touches m1
  d.add('m3', ref('a'));
  assert.equal(d.size, 2);
  assert.equal(d.has('m2', ref('a')), false);
  assert.equal(d.has('m1', ref('a')), true);
  assert.equal(d.has('m3', ref('a')), true);
});
