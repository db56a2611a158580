import { describe } from 'node:test';
import { startDistributionPeer } from './peers.js';
import { protocolSuite } from './protocol-suite.js';

describe('protocol suite: distribution 2.8 (the reference)', () => protocolSuite(startDistributionPeer));
