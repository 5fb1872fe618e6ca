import { storageSuite } from './_suite.js';

storageSuite('s3+ddb');
