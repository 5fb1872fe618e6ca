import { storageSuite } from './_suite.js';

storageSuite('local');
