// Stock s3rver 3.7.1, unpatched: it ignores If-None-Match on PUT (and lists nested
// prefixes wrongly). The store without conditional writes that memlane must refuse.
// argv: port directory bucket
const S3rver = require('s3rver');
const [port, directory, bucket] = process.argv.slice(2);
new S3rver({ port: Number(port), address: '127.0.0.1', directory, silent: true, configureBuckets: [{ name: bucket }] }).run();
