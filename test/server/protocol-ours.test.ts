import { describe } from 'node:test';
import { startOurs } from './peers.js';
import { protocolSuite } from './protocol-suite.js';

describe('protocol suite: overcloud registry', () => protocolSuite(() => startOurs()));
