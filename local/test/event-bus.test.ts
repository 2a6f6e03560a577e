import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { matchesPattern } from '../event-pattern';
import { LocalEventBus } from '../event-bus';
import { parseTemplate } from '../template/read';

/** A bus, a rule with an event pattern delivering to a queue and a function, and a rule to something not local. */
const TEMPLATE = {
  Resources: {
    Bus: { Type: 'AWS::Events::EventBus', Properties: { Name: 'app-bus' } },
    Inbox: { Type: 'AWS::SQS::Queue', Properties: {} },
    Fn: { Type: 'AWS::Lambda::Function', Properties: { Handler: 'index.handler', Runtime: 'nodejs22.x' } },
    Stream: { Type: 'AWS::KinesisFirehose::DeliveryStream', Properties: {} },
    Deactivations: {
      Type: 'AWS::Events::Rule',
      Properties: {
        EventBusName: { Ref: 'Bus' },
        EventPattern: { source: ['app'], 'detail-type': ['activity.recorded'], detail: { event: { type: [{ prefix: 'user.' }] } } },
        Targets: [
          { Id: 'Q', Arn: { 'Fn::GetAtt': ['Inbox', 'Arn'] } },
          { Id: 'F', Arn: { 'Fn::GetAtt': ['Fn', 'Arn'] } },
          { Id: 'G', Arn: { 'Fn::GetAtt': ['Inbox', 'Arn'] }, SqsParameters: { MessageGroupId: 'group-1' } },
        ],
      },
    },
    Archive: {
      Type: 'AWS::Events::Rule',
      Properties: {
        EventBusName: { Ref: 'Bus' },
        EventPattern: { source: ['app'] },
        Targets: [{ Id: 'S', Arn: { 'Fn::GetAtt': ['Stream', 'Arn'] } }],
      },
    },
  },
};

describe('local EventBridge', () => {
  it('reads buses and event-pattern rules from the template, reporting targets that are not local', () => {
    const model = parseTemplate(TEMPLATE);
    expect(model.eventBuses).toEqual([{ logicalId: 'Bus', name: 'app-bus' }]);
    expect(model.busRules.find((r) => r.logicalId === 'Deactivations')).toMatchObject({
      busName: 'app-bus',
      targets: [
        { id: 'Q', kind: 'sqs', logicalId: 'Inbox' },
        { id: 'F', kind: 'lambda', logicalId: 'Fn' },
        { id: 'G', kind: 'sqs', logicalId: 'Inbox', messageGroupId: 'group-1' },
      ],
    });
    expect(model.warnings.join('\n')).toMatch(/Rule Archive: target S is neither a queue nor a function/);
    expect(model.schedules).toEqual([]);
  });

  it('accepts PutEvents from the SDK, lists events newest first and delivers matches of a rule to its local targets', async () => {
    const model = parseTemplate(TEMPLATE);
    const delivered: { target: string; detailType: string }[] = [];
    const bus = new LocalEventBus({
      region: 'us-east-1',
      accountId: '000000000000',
      rules: model.busRules,
      log: () => undefined,
      deliver: async (target, event) => void delivered.push({ target: target.logicalId, detailType: event['detail-type'] }),
    });
    const endpoint = await bus.start();
    const client = new EventBridgeClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
    try {
      const put = (type: string, detailType = 'activity.recorded') => ({
        EventBusName: 'app-bus',
        Source: 'app',
        DetailType: detailType,
        Detail: JSON.stringify({ tenant: 't', event: { type } }),
        Time: new Date(),
      });
      const out = await client.send(
        new PutEventsCommand({ Entries: [put('user.deactivated'), put('page.viewed'), put('user.created', 'activity.deleted')] }),
      );
      expect(out.FailedEntryCount).toBe(0);
      expect(out.Entries?.every((e) => typeof e.EventId === 'string')).toBe(true);
      await new Promise((r) => setTimeout(r, 20));
      expect(delivered).toEqual([
        { target: 'Inbox', detailType: 'activity.recorded' },
        { target: 'Fn', detailType: 'activity.recorded' },
        { target: 'Inbox', detailType: 'activity.recorded' },
      ]);
      const listed = bus.list(2);
      expect(listed.map((e) => (e.detail as { event: { type: string } }).event.type)).toEqual(['user.created', 'page.viewed']);
      expect(listed[0]).toMatchObject({
        version: '0',
        source: 'app',
        'detail-type': 'activity.deleted',
        account: '000000000000',
        region: 'us-east-1',
      });

      bus.failNext(2);
      const failed = await client.send(new PutEventsCommand({ Entries: [put('a'), put('b'), put('c')] }));
      expect(failed.FailedEntryCount).toBe(2);
      expect(failed.Entries?.map((e) => e.ErrorCode ?? 'ok')).toEqual(['InternalFailure', 'InternalFailure', 'ok']);
      await expect(client.send(new PutEventsCommand({ Entries: Array.from({ length: 11 }, () => put('x')) }))).rejects.toThrow(/1 to 10/);
    } finally {
      client.destroy();
      await bus.stop();
    }
  });

  it('matches event patterns as EventBridge does', () => {
    const event = { source: 'app', detail: { tenant: 'acme', n: 5, tags: ['a', 'b'], event: { type: 'user.created' } } };
    expect(matchesPattern({ source: ['app', 'other'] }, event)).toBe(true);
    expect(matchesPattern({ source: ['other'] }, event)).toBe(false);
    expect(matchesPattern({ detail: { tags: ['b'] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { n: [{ numeric: ['>', 1, '<=', 5] }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { tenant: [{ 'anything-but': ['acme'] }] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { missing: [{ exists: false }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { tenant: [{ exists: true }], event: { type: [{ suffix: '.created' }] } } }, event)).toBe(true);
    expect(() => matchesPattern({ detail: { tenant: [{ wildcard: 'a*' }] } }, event)).toThrow(/not supported/);
  });
});
