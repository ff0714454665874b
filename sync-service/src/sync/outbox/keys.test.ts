import { describe, expect, it } from 'vitest';
import { SLOTS, SLOT_OBJECTS, slotKey, slotKeysOf } from './keys.js';

describe('outbox slot keys', () => {
  it("names only the slots a record's object can have", () => {
    expect(slotKeysOf('Contact', '7')).toEqual(['7', '7#journey']);
    expect(slotKeysOf('Care_Plan__c', '3')).toEqual(['3', '3#progress', '3#parent']);
    expect(slotKeysOf('Cliniko_Appointment__c', '9')).toEqual(['9', '9#parent', '9#event']);
    expect(slotKeysOf('Cliniko_Invoice__c', '4')).toEqual(['4', '4#parent']);
    expect(slotKeysOf('Journey_Transition__c', 'k')).toEqual(['k']);
  });

  it('every slot a producer may write is one the drain claims with its record', () => {
    for (const slot of SLOTS)
      for (const object of SLOT_OBJECTS[slot]) {
        const key = slotKey(object, '1', slot);
        expect(slotKeysOf(object, '1')).toContain(key);
      }
  });

  it('refuses a slot its object is not listed for (it would be written as a record of its own)', () => {
    expect(() => slotKey('Contact', '1', 'event')).toThrow(/Contact has no #event slot/);
    expect(() => slotKey('Journey_Transition__c', '1', 'parent')).toThrow(/SLOT_OBJECTS/);
  });
});
