import assert from 'node:assert/strict';
import { matchRoute, parseRoutes, RouteFileError } from '../src/handlers/routes.js';

describe('static routes', () => {
  const routes = parseRoutes(
    JSON.stringify({
      routes: [
        { prefix: '', target: 'sip:{user}@fs.example.test' },
        { prefix: '+1', target: 'sip:{user}@trunk.example.test', username: 'u', password: 'p', realm: 'r' },
        { prefix: '+12', target: 'sip:{user}@other.example.test' },
      ],
    }),
  );

  it('takes the longest matching prefix and fills in the user', () => {
    assert.equal(matchRoute(routes, '+1555')?.requestUri, 'sip:+1555@trunk.example.test');
    assert.deepEqual(matchRoute(routes, '+1555')?.route.credentials, { username: 'u', password: 'p', realm: 'r' });
    assert.equal(matchRoute(routes, '+1234')?.requestUri, 'sip:+1234@other.example.test');
    assert.equal(matchRoute(routes, 'bob')?.requestUri, 'sip:bob@fs.example.test');
    assert.equal(matchRoute([], 'bob'), undefined);
  });

  it('refuses bad routes with the route named', () => {
    const bad = (doc: unknown, pattern: RegExp): void => {
      assert.throws(() => parseRoutes(JSON.stringify(doc)), (err: unknown) => err instanceof RouteFileError && err.code === 'UA_ROUTE_FILE' && pattern.test(err.message));
    };
    bad({ routes: {} }, /must be an array/);
    bad({ routes: [{ prefix: 'a b', target: 'sip:x@y' }] }, /route #1: prefix/);
    bad({ routes: [{ prefix: '1', target: 'http://x' }] }, /route #1: target/);
    bad({ routes: [{ prefix: '1', target: 'sip:x@y', username: 'u' }] }, /username and password/);
  });
});
