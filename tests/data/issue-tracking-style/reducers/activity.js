// Written for git-sit's tests from SIT-FORMAT §5.6: returns undefined for records
// without a timestamp, which leaves the state as it is.
module.exports = function (state, record) {
    if (record.files['.timestamp']) {
        state.last_updated_timestamp = new TextDecoder('utf-8').decode(record.files['.timestamp']);
        return state;
    }
};
