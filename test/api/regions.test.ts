import assert from 'node:assert/strict';
import {
  bflRegionEndpoint,
  customEndpoint,
  emulatorEndpoint,
  mayDeliverFromWebhook,
  mayReceiveKey,
  normaliseBaseUrl,
} from '../../lib/api/regions';

describe('regions and where the key may go', () => {
  it('downloads a result named by a webhook only from a delivery host the region allows', () => {
    const global = bflRegionEndpoint('global');
    assert.equal(mayDeliverFromWebhook(global, 'https://delivery.eu1.bfl.ai/results/x.jpeg?sig=1'), true);
    assert.equal(mayDeliverFromWebhook(global, 'https://bfldeliveryprodeu4.blob.core.windows.net/results/x'), true);
    assert.equal(mayDeliverFromWebhook(global, 'http://delivery.eu1.bfl.ai/results/x.jpeg'), false);
    assert.equal(mayDeliverFromWebhook(global, 'https://api.bfl.ai/v1/credits'), false);
    assert.equal(mayDeliverFromWebhook(global, 'https://evil.blob.core.windows.net/x'), false);
    assert.equal(mayDeliverFromWebhook(global, 'https://delivery.eu1.bfl.ai.evil.example/x'), false);
    assert.equal(mayDeliverFromWebhook(global, 'http://127.0.0.1:1880/admin'), false);
    assert.equal(mayDeliverFromWebhook(global, 'https://u:p@delivery.eu1.bfl.ai/x'), false);
    assert.equal(mayDeliverFromWebhook(global, 'not a url'), false);
    const custom = customEndpoint('http://127.0.0.1:8080/proxy');
    assert.equal(mayDeliverFromWebhook(custom, 'http://127.0.0.1:8080/results/x.png'), true);
    assert.equal(mayDeliverFromWebhook(custom, 'http://127.0.0.1:8081/results/x.png'), false);
    const emulated = emulatorEndpoint({
      apiUrl: 'http://127.0.0.1:1',
      clusterUrl: 'http://127.0.0.1:2',
      deliveryUrl: 'http://127.0.0.1:3',
    });
    assert.equal(mayDeliverFromWebhook(emulated, 'http://127.0.0.1:3/results/x.png'), true);
    assert.equal(mayDeliverFromWebhook(emulated, 'http://127.0.0.1:1/v1/credits'), false);
  });

  it('sends the key to BFL API hosts over https only, never to delivery or foreign hosts', () => {
    const eu = bflRegionEndpoint('eu');
    assert.equal(mayReceiveKey(eu, 'https://api.eu.bfl.ai/v1/flux-pro-1.0-fill'), true);
    assert.equal(mayReceiveKey(eu, 'https://api.eu2.bfl.ai/v1/get_result?id=1'), true);
    assert.equal(mayReceiveKey(eu, 'http://api.eu2.bfl.ai/v1/get_result?id=1'), false);
    assert.equal(mayReceiveKey(eu, 'https://delivery.eu1.bfl.ai/results/x.jpeg'), false);
    assert.equal(mayReceiveKey(eu, 'https://bfldeliveryprodeu4.blob.core.windows.net/results/x'), false);
    assert.equal(mayReceiveKey(eu, 'https://api.bfl.ai.evil.example/v1/get_result'), false);
    assert.equal(mayReceiveKey(eu, 'https://user:pw@api.eu2.bfl.ai/v1/get_result'), false);
  });

  it('sends the key only to the configured origin of a custom base URL', () => {
    const custom = customEndpoint('http://127.0.0.1:8080/proxy');
    assert.equal(mayReceiveKey(custom, 'http://127.0.0.1:8080/v1/get_result?id=1'), true);
    assert.equal(mayReceiveKey(custom, 'http://127.0.0.1:8081/v1/get_result?id=1'), false);
    assert.equal(mayReceiveKey(custom, 'https://api.eu2.bfl.ai/v1/get_result?id=1'), false);
  });

  it('normalises custom base URLs and refuses unusable ones', () => {
    assert.equal(normaliseBaseUrl(' https://proxy.example/bfl/v1/ '), 'https://proxy.example/bfl');
    assert.equal(normaliseBaseUrl('http://127.0.0.1:9000'), 'http://127.0.0.1:9000');
    assert.equal(normaliseBaseUrl('ftp://x'), undefined);
    assert.equal(normaliseBaseUrl('not a url'), undefined);
    assert.equal(normaliseBaseUrl('https://user:secret@proxy.example'), undefined);
  });
});
