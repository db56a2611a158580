import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate, evaluateCondition, type IntrinsicScope } from '../../src/deploy/intrinsics.js';
import { AppError } from '../../src/errors.js';

const params: Record<string, unknown> = {
  Port: 5000,
  Name: 'ks',
  Debug: true,
  Map: { a: ['x', 'y'] },
  Empty: '',
};
const conditions: Record<string, unknown> = {
  debug: { equals: [{ get_param: 'Debug' }, true] },
  named: { not: { equals: [{ get_param: 'Empty' }, ''] } },
};
const scope: IntrinsicScope = {
  where: 't.yaml',
  param(name) {
    if (!(name in params)) throw new AppError('TEMPLATE_INVALID', `undeclared ${name}`);
    return params[name];
  },
  condition: (name) => evaluateCondition(conditions[name], scope, name),
};

describe('Heat intrinsic subset', () => {
  it('get_param, with a path into maps and lists', () => {
    assert.equal(evaluate({ get_param: 'Port' }, scope), 5000);
    assert.equal(evaluate({ get_param: ['Map', 'a', 1] }, scope), 'y');
  });
  it('str_replace replaces longest keys first and converts scalars', () => {
    assert.equal(
      evaluate(
        {
          str_replace: {
            template: 'http://HOST:PORT/PORTAL',
            params: { PORT: { get_param: 'Port' }, PORTAL: 'v3', HOST: 'h' },
          },
        },
        scope,
      ),
      'http://h:5000/v3',
    );
  });
  it('list_concat, list_join, if with named conditions', () => {
    assert.deepEqual(evaluate({ list_concat: [['a'], [{ get_param: 'Name' }]] }, scope), ['a', 'ks']);
    assert.equal(evaluate({ list_join: ['-', ['a', { get_param: 'Port' }]] }, scope), 'a-5000');
    assert.equal(evaluate({ if: ['debug', 'on', 'off'] }, scope), 'on');
    assert.equal(
      evaluate({ if: ['named', { get_param: 'Missing' }, 'fallback'] }, scope),
      'fallback',
      'only the chosen branch is evaluated',
    );
  });
  it('rejects unsupported functions and equals outside conditions, by name', () => {
    assert.throws(() => evaluate({ a: { get_attr: ['x', 'y'] } }, scope), /get_attr" is not supported/);
    assert.throws(() => evaluate({ equals: [1, 1] }, scope), /only in the conditions: section/);
    assert.throws(() => evaluate({ get_param: 'Nope' }, scope), /undeclared Nope/);
  });
});
