// Platform module types: @salesforce/lightning-types covers lightning/*; the declarations below cover
// what it lacks (see force-app/README.md).
import '@salesforce/lightning-types';
// Brings @sa11y/jest's `toBeAccessible` matcher type into the component tests.
import '@sa11y/jest';
