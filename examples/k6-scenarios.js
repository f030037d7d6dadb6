// A k6 test of a Knative service: steady users, a ramp, an arrival-rate spike and a batch.
// `autoscale run --load examples/k6-scenarios.js` replays the scenarios below; each
// iteration of the default function is one request.
import http from 'k6/http';

export const options = {
  scenarios: {
    // Ten users, each sending its next request when the previous one is answered.
    warm: {
      executor: 'constant-vus',
      vus: 10,
      duration: '5m',
    },
    // From 0 to 40 users over a minute, held for two, then back to 0.
    ramp: {
      executor: 'ramping-vus',
      startVUs: 0,
      startTime: '30s',
      stages: [
        { duration: '1m', target: 40 },
        { duration: '2m', target: 40 },
        { duration: '30s', target: 0 },
      ],
      gracefulRampDown: '10s',
    },
    /* An open-loop spike: 600 iterations a minute for 30 s, whatever the responses. */
    spike: {
      executor: 'constant-arrival-rate',
      rate: 600,
      timeUnit: '1m',
      duration: '30s',
      startTime: '2m',
      preAllocatedVUs: 20,
      maxVUs: 100,
    },
    // Five users that send 20 requests each, late in the test.
    batch: {
      executor: "per-vu-iterations",
      vus: 5,
      iterations: 20,
      startTime: '4m',
      maxDuration: '1m',
      exec: 'default',
    },
  },
  thresholds: {
    http_req_duration: ['p(99)<1500'],
  },
};

export default function () {
  http.get('http://hello.default.example.com');
}
