import { writersSuite } from './_writers.js';

writersSuite('s3+ddb');
